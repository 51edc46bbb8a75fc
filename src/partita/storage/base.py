"""The storage interface execution uses. Implementations live in their own modules and
are opened through `partita.storage.registry`, keyed by the declaration's `kind`."""

from __future__ import annotations

from collections.abc import Callable
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


def describe_location(asset: str, partition: str | None) -> str:
    """Name an asset (and partition) in error messages."""
    if partition is None:
        return f"asset {asset!r}"
    return f"asset {asset!r} partition {partition!r}"
