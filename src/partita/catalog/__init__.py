"""The catalog of runs, materialization attempts and current partition states."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from partita.catalog.base import Catalog
from partita.catalog.records import (
    ConsumedInput,
    FailedCheck,
    LeaseHolder,
    MaterializationRecord,
    PartitionState,
    RunRecord,
    StateRow,
)

if TYPE_CHECKING:
    from partita.catalog.sqlite import SQLiteCatalog

__all__ = [
    "Catalog",
    "ConsumedInput",
    "FailedCheck",
    "LeaseHolder",
    "MaterializationRecord",
    "PartitionState",
    "RunRecord",
    "SQLiteCatalog",
    "StateRow",
    "catalog_path",
    "open_catalog",
]


def catalog_path(warehouse: Path) -> Path:
    """Where a warehouse keeps its catalog: beside the data, inside the warehouse."""
    return warehouse / ".partita" / "catalog.db"


def open_catalog(warehouse: Path, url: str | None = None) -> Catalog:
    """The catalog at `url` (`postgresql://...` or `sqlite:///path`), or by default the
    SQLite catalog inside the warehouse; created on first use."""
    if url is None:
        from partita.catalog.sqlite import SQLiteCatalog

        return SQLiteCatalog(catalog_path(warehouse))
    from partita.catalog.locations import open_catalog_url

    return open_catalog_url(url)


def __getattr__(name: str) -> Any:
    # The SQLite backend loads when a catalog is opened, not with the records `list` uses.
    if name == "SQLiteCatalog":
        from partita.catalog.sqlite import SQLiteCatalog

        return SQLiteCatalog
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
