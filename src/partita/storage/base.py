"""The storage interface execution uses. Implementations live in their own modules and
are opened through `partita.storage.registry`, keyed by the declaration's `kind`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class WriteResult:
    """What one write stored: row count, size in bytes and the content hash of the data."""

    rows: int
    bytes: int
    data_version: str


@dataclass(frozen=True)
class RetainedVersion:
    """One kept (replaced) version of one partition (None: the unpartitioned asset)."""

    partition: str | None
    data_version: str
    bytes: int


class Storage(Protocol):
    """Reads and writes one asset's data, partition by partition.

    Every storage passes the contract suite in `tests/storage/contract/`. Outside a run
    (reads from the API or the CLI) a storage is used without `open`; a run calls
    `open` before its first write and `close` at its end.
    """

    reads_back_exactly: bool
    """True when `read` returns exactly the canonical table that was written (types,
    values, order), so a run may serve its own writes from memory."""

    single_process: bool
    """True when only one process may open the data at a time (a DuckDB file): in a run
    with worker processes the coordinator reads and writes it for them."""

    @property
    def merges(self) -> bool:
        """Whether a write upserts on keys instead of replacing the partition."""
        ...

    def location(self, partition: str | None = None) -> str:
        """Where the data (of `partition`) is, in words for error messages."""
        ...

    def open(self, run_id: str, *, shared: bool = False) -> None:
        """Start using the storage for run `run_id`; `shared`: other processes of the run
        write the same files, so hold nothing (a connection, a lock) between writes."""
        ...

    def close(self) -> None:
        """End the run's use of the storage, releasing what `open` kept."""
        ...

    def canonical(self, table: pa.Table, partition: str | None = None) -> pa.Table:
        """`table` as a later `read` returns it (see `partita.storage.canonical`); fails
        with `InvalidDataError` on data the storage cannot keep (duplicate names...)."""
        ...

    def write(
        self,
        partition: str | None,
        table: pa.Table,
        evolve: bool = False,
        before_publish: Callable[[], None] | None = None,
    ) -> WriteResult:
        """Replace the data of `partition` (None: the unpartitioned asset) with the
        canonical form of `table`; `evolve` lets new columns in. `before_publish` is called
        once the new data is durable but not yet visible: if it raises, nothing is
        published and the exception propagates."""
        ...

    def published_schema(self, excluding: str | None = None) -> pa.Schema | None:
        """The schema the asset's published data has, apart from partition `excluding`."""
        ...

    def read(self, partitions: list[str] | None) -> pa.Table:
        """Read the whole asset (None) or exactly `partitions`, concatenated in that order."""
        ...

    def exists(self, partition: str | None) -> bool:
        """Whether `partition` (None: the unpartitioned asset) has been written."""
        ...

    def cleanup(self) -> list[Path]:
        """Remove leftovers of interrupted writes and return what was removed."""
        ...

    def delete(
        self, partitions: Sequence[str | None], before_commit: Callable[[], None] | None = None
    ) -> None:
        """Delete the current data and every kept version of `partitions` (those without
        data are skipped). `before_commit` is called once, before anything that cannot be
        taken back: if it raises, no data is deleted and the exception propagates. (A
        DuckDB table deletes in one transaction and calls it just before COMMIT; files are
        removed only after it returned.)"""
        ...

    # --- history: replaced versions, kept so a run can be undone ---

    keep_history: bool
    """Whether `write` and `restore` keep the version they replace (the asset's retention
    sets it; a merging storage keeps none). The kept version is durable before the new
    one is published, and readers of the current data never see kept versions."""

    def retained_versions(self) -> list[RetainedVersion]:
        """Every kept version of every partition, by partition and data version."""
        ...

    def read_version(self, partition: str | None, data_version: str) -> pa.Table:
        """The data `partition` had at `data_version` (kept, or current); StorageError
        naming the partition when that version is neither."""
        ...

    def restore(
        self,
        partition: str | None,
        data_version: str,
        before_publish: Callable[[], None] | None = None,
    ) -> WriteResult:
        """Make the kept `data_version` the partition's current data again, atomically
        (readers see the old or the restored data), keeping the replaced version as `write`
        does. `before_publish` as in `write`. The result's data version is `data_version`."""
        ...

    def discard_version(self, partition: str | None, data_version: str) -> int:
        """Delete one kept version; return the bytes freed (0 when it was not kept). The
        current data is never touched."""
        ...


def describe_location(asset: str, partition: str | None) -> str:
    """Name an asset (and partition) in error messages."""
    if partition is None:
        return f"asset {asset!r}"
    return f"asset {asset!r} partition {partition!r}"
