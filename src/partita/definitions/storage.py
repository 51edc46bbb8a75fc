"""Where an asset's data lives: plain declarations, implemented in `partita.storage`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol, runtime_checkable

from ..errors import DefinitionError


@dataclass(frozen=True)
class StorageTarget:
    """What an asset writes, as far as two assets must not share it: assets whose targets
    have equal `key`s would mix their data."""

    key: tuple[str, ...]
    description: str  # "the DuckDB table 'sales' of warehouse.duckdb"
    advice: str  # why the keys clash and what to do


@runtime_checkable
class StorageDeclaration(Protocol):
    """Any storage declaration: `kind` picks the implementation (`partita.storage.registry`)."""

    @property
    def kind(self) -> str: ...

    def describe(self) -> str: ...

    def target(self, asset: str) -> StorageTarget | None: ...


@dataclass(frozen=True)
class Parquet:
    """Hive-partitioned Parquet files under `warehouse/<asset>/<key>=<partition>/`.

    `partition_column` overrides the hive key (default: `date`, `hour`, `week`, `month`
    or `partition`, from the asset's partitions).
    """

    partition_column: str | None = None

    def __post_init__(self) -> None:
        column = self.partition_column
        if column is not None and (not column.isidentifier() or column.startswith("_")):
            raise DefinitionError(
                f"Parquet(partition_column={column!r}) is not a plain column name: use letters, "
                "digits and underscores, not starting with '_' or a digit."
            )

    @property
    def kind(self) -> str:
        return "parquet"

    def describe(self) -> str:
        return "parquet"

    def target(self, asset: str) -> StorageTarget | None:
        return None  # each asset has its own folder, named after it


@dataclass(frozen=True)
class DuckDB:
    """One table per asset in a DuckDB file under the warehouse.

    A partition's rows are replaced in one transaction, or upserted on `merge_on` keys.
    """

    table: str | None = None
    merge_on: tuple[str, ...] | None = None
    database: str = "warehouse.duckdb"

    def __init__(
        self,
        table: str | None = None,
        merge_on: list[str] | tuple[str, ...] | None = None,
        database: str = "warehouse.duckdb",
    ) -> None:
        path = PurePosixPath(database.replace("\\", "/"))
        if not database or "\x00" in database or path.is_absolute() or ".." in path.parts:
            raise DefinitionError(
                f"DuckDB(database={database!r}) must be a file name inside the warehouse, "
                "such as 'warehouse.duckdb' or 'marts/sales.duckdb' (no absolute path, no '..')."
            )
        if table is not None and (
            not table or "\x00" in table or table.casefold().startswith("_partita_")
        ):
            raise DefinitionError(
                f"DuckDB(table={table!r}) cannot be used: a table name must be non-empty, "
                "without NUL characters, and not start with the reserved prefix '_partita_'."
            )
        if isinstance(merge_on, str):
            merge_on = [merge_on]
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "merge_on", tuple(merge_on) if merge_on else None)
        object.__setattr__(self, "database", database)

    @property
    def kind(self) -> str:
        return "duckdb"

    def describe(self) -> str:
        return f"duckdb:{self.database}"

    def target(self, asset: str) -> StorageTarget | None:
        table = self.table or asset
        return StorageTarget(
            key=("duckdb", self.database, table.casefold()),
            description=f"the DuckDB table {table!r} of {self.database}",
            advice="(table names ignore case). Give each asset its own table with "
            "DuckDB(table=...).",
        )


StorageSpec = StorageDeclaration
