"""The catalog of runs, materialization attempts and current partition states."""

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
]
