"""The storages every contract test runs against. A new backend adds its declaration here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from partita.definitions.storage import DuckDB, Parquet
from partita.storage.base import Storage
from partita.storage.object_location import is_object_url, parse_object_url
from partita.storage.registry import open_storage

DECLARATIONS = {
    "parquet": Parquet(),
    "s3-parquet": Parquet(),  # in a warehouse on the session's S3 server
    "duckdb": DuckDB(database="warehouse.duckdb"),
    "duckdb-merge": DuckDB(database="warehouse.duckdb", merge_on=["id"]),
}
# Storages that replace a partition on write (merging ones upsert into it).
REPLACING = ["parquet", "duckdb", "s3-parquet"]
# Those in a local folder (the generated-data tests make many warehouses).
LOCAL_REPLACING = ["parquet", "duckdb"]
OBJECT_STORAGE = {"s3-parquet"}
# Those that keep the versions they replace (undo).
KEEPING = ["parquet", "duckdb", "s3-parquet"]


def warehouse_of(text: str):
    """The warehouse a test names by text (a folder, or an s3:// URL): children get it so."""
    return parse_object_url(text) if is_object_url(text) else Path(text)


MakeStorage = Callable[..., Storage]


@pytest.fixture(params=list(DECLARATIONS))
def kind(request) -> str:
    return request.param


@pytest.fixture
def make_storage(tmp_path: Path, request, monkeypatch) -> MakeStorage:
    """`make_storage(kind, partitioned=True, asset="sales", hive_key="date")`: a storage
    in the test's warehouse (tmp_path's, or a fresh prefix of the S3 server), closed at the
    end of the test. PARTITA_TEST_WAREHOUSE names the warehouse for child processes."""
    opened: list[Storage] = []
    remote: list[str] = []

    def make(
        kind: str, partitioned: bool = True, asset: str = "sales", hive_key: str = "date"
    ) -> Storage:
        warehouse = str(tmp_path / "warehouse")
        if kind in OBJECT_STORAGE:
            if not remote:
                remote.append(request.getfixturevalue("s3_server").new_prefix())
            warehouse = remote[0]
            monkeypatch.setenv("PARTITA_TEST_WAREHOUSE", warehouse)
        storage = open_storage(
            DECLARATIONS[kind], warehouse_of(warehouse), asset, hive_key if partitioned else None
        )
        opened.append(storage)
        return storage

    yield make
    for storage in opened:
        storage.close()
