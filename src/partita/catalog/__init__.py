"""The catalog of runs, materialization attempts and current partition states."""

from pathlib import Path

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


def open_catalog(warehouse: Path) -> Catalog:
    """The warehouse's catalog (SQLite, the one backend today), created on first use."""
    return SQLiteCatalog(catalog_path(warehouse))
