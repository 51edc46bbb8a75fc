"""The storage interface the runner uses, and the factory that picks an implementation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from partita.definitions.storage import DuckDB, Parquet, StorageSpec

if TYPE_CHECKING:
    import pyarrow as pa

    from partita.definitions.asset import AssetDefinition


@dataclass(frozen=True)
class WriteResult:
    """What one write stored: row count, size in bytes and the content hash of the data."""

    rows: int
    bytes: int
    data_version: str


class Storage(Protocol):
    """Reads and writes one asset's data, partition by partition."""

    def write(
        self,
        partition: str | None,
        table: pa.Table,
        evolve: bool = False,
        before_publish: Callable[[], None] | None = None,
    ) -> WriteResult:
        """Replace the data of `partition` (None: the unpartitioned asset) with `table`;
        `evolve` lets new columns in. `before_publish()` runs just before the data becomes
        visible; if it raises, nothing is published."""
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


def open_storage(spec: StorageSpec, warehouse: Path, asset: str, hive_key: str | None) -> Storage:
    """Build the storage for `asset` as declared by `spec`.

    `hive_key` is None for an unpartitioned asset; `Parquet(partition_column=...)`
    overrides it for partitioned ones.
    """
    if isinstance(spec, Parquet):
        from partita.storage.parquet import ParquetStorage

        key = (spec.partition_column or hive_key) if hive_key is not None else None
        return ParquetStorage(warehouse, asset, key)
    if isinstance(spec, DuckDB):
        from partita.storage.duckdb import DuckDBStorage

        return DuckDBStorage(warehouse, asset, hive_key, spec.table, spec.merge_on, spec.database)
    raise TypeError(f"Unknown storage declaration: {spec!r}")


def open_asset_storage(definition: AssetDefinition, warehouse: Path) -> Storage:
    """The storage of a declared asset, keyed by its partitions' hive key."""
    hive_key = definition.partitions.hive_key if definition.partitions else None
    return open_storage(definition.storage, warehouse, definition.name, hive_key)


def describe_location(asset: str, partition: str | None) -> str:
    """Name an asset (and partition) in error messages."""
    if partition is None:
        return f"asset {asset!r}"
    return f"asset {asset!r} partition {partition!r}"
