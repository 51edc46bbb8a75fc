"""The storages every contract test runs against. A new backend adds its declaration here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from partita.definitions.storage import DuckDB, Parquet
from partita.storage.base import Storage
from partita.storage.registry import open_storage

DECLARATIONS = {
    "parquet": Parquet(),
    "duckdb": DuckDB(database="warehouse.duckdb"),
    "duckdb-merge": DuckDB(database="warehouse.duckdb", merge_on=["id"]),
}
# Storages that replace a partition on write (merging ones upsert into it).
REPLACING = ["parquet", "duckdb"]

MakeStorage = Callable[..., Storage]


@pytest.fixture(params=list(DECLARATIONS))
def kind(request) -> str:
    return request.param


@pytest.fixture
def make_storage(tmp_path: Path) -> MakeStorage:
    """`make_storage(kind, partitioned=True, asset="sales")`: a storage in tmp_path's
    warehouse, closed at the end of the test."""
    opened: list[Storage] = []

    def make(kind: str, partitioned: bool = True, asset: str = "sales") -> Storage:
        storage = open_storage(
            DECLARATIONS[kind], tmp_path / "warehouse", asset, "date" if partitioned else None
        )
        opened.append(storage)
        return storage

    yield make
    for storage in opened:
        storage.close()
