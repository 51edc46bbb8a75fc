"""The catalog of runs, materialization attempts and current partition states."""

from pathlib import Path

from partita.catalog.records import (
    ConsumedInput,
    MaterializationRecord,
    PartitionState,
    RunRecord,
)
from partita.catalog.sqlite import SQLiteCatalog

__all__ = [
    "ConsumedInput",
    "MaterializationRecord",
    "PartitionState",
    "RunRecord",
    "SQLiteCatalog",
    "catalog_path",
    "open_catalog",
]


def catalog_path(warehouse: Path) -> Path:
    """Where a warehouse keeps its catalog: beside the data, inside the warehouse."""
    return warehouse / ".partita" / "catalog.db"


def open_catalog(warehouse: Path) -> SQLiteCatalog:
    """The warehouse's catalog, created on first use."""
    return SQLiteCatalog(catalog_path(warehouse))
