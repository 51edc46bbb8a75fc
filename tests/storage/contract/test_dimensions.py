"""The storage contract for multi-dimensional partitions (`date|region|product` keys):
partitions round trip, reads leave the dimensions out, a data column named like a
dimension is refused, and SQL can filter the stored data by each dimension."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa
import pytest

from partita.errors import InvalidDataError
from partita.storage.base import Storage

from .conftest import LOCAL_REPLACING

HIVE_KEY = "date|region|product"
KEYS = ["2024-01-01|eu|p1", "2024-01-01|us|p1", "2024-01-02|eu|p2"]


def _parquet_rows(storage, where: str, parameters: list) -> list[tuple]:
    files = f"{storage.root}/*/*/*/part-0.parquet"
    query = f"SELECT id FROM read_parquet(?, hive_partitioning = true) WHERE {where} ORDER BY id"
    return duckdb.execute(query, [files, *parameters]).fetchall()


def _duckdb_rows(storage, where: str, parameters: list) -> list[tuple]:
    with duckdb.connect(str(storage.path), read_only=True) as connection:
        query = f'SELECT id FROM "{storage.table}" WHERE {where} ORDER BY id'
        return connection.execute(query, parameters).fetchall()


def _s3_parquet_rows(storage, where: str, parameters: list) -> list[tuple]:
    """Through pyarrow's S3 file system with hive partitioning (the AWS_* variables the
    S3 server fixture set), then DuckDB over the dataset."""
    import os

    import pyarrow.dataset as ds
    from pyarrow import fs

    endpoint = os.environ["AWS_ENDPOINT_URL"]
    s3 = fs.S3FileSystem(
        endpoint_override=endpoint.removeprefix("http://"),
        scheme="http",
        access_key=os.environ["AWS_ACCESS_KEY_ID"],
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region=os.environ["AWS_DEFAULT_REGION"],
    )
    path = f"{storage.warehouse.bucket}/{storage.root}"
    dataset = ds.dataset(path, filesystem=s3, partitioning="hive")  # noqa: F841 (read by SQL)
    query = f"SELECT id FROM dataset WHERE {where} ORDER BY id"
    return duckdb.execute(query, parameters).fetchall()


# How SQL reads each storage's data as stored; a new backend adds its reader here.
SQL_ROWS: dict[str, Callable[[Storage, str, list], list[tuple]]] = {
    "parquet": _parquet_rows,
    "duckdb": _duckdb_rows,
    "duckdb-merge": _duckdb_rows,
    "s3-parquet": _s3_parquet_rows,
}


@pytest.fixture(params=list(SQL_ROWS))
def kind(request) -> str:
    return request.param


def written(make_storage, kind: str) -> Storage:
    storage = make_storage(kind, hive_key=HIVE_KEY)
    for number, key in enumerate(KEYS):
        storage.write(key, pa.table({"id": [number], "amount": [float(number)]}))
    return storage


def test_multi_dimensional_partitions_round_trip_without_dimension_columns(
    kind, make_storage
) -> None:
    storage = written(make_storage, kind)
    assert storage.read([KEYS[2], KEYS[0]]).to_pydict() == {"id": [2, 0], "amount": [2.0, 0.0]}
    assert sorted(storage.read(None).column("id").to_pylist()) == [0, 1, 2]
    assert storage.published_schema().names == ["id", "amount"]
    assert storage.exists(KEYS[1]) and not storage.exists("2024-01-02|us|p2")


def test_sql_filters_the_stored_data_by_each_dimension(kind, make_storage) -> None:
    storage = written(make_storage, kind)
    rows = SQL_ROWS[kind]
    assert rows(storage, "region = ?", ["eu"]) == [(0,), (2,)]
    assert rows(storage, "product = ? AND region = ?", ["p1", "us"]) == [(1,)]
    assert rows(storage, "CAST(date AS VARCHAR) = ?", ["2024-01-02"]) == [(2,)]


def test_a_data_column_named_like_a_dimension_is_refused(kind, make_storage) -> None:
    storage = written(make_storage, kind)
    clashing = pa.table({"id": [9], "Region": ["eu"]})
    with pytest.raises(InvalidDataError, match="Region") as refused:
        storage.write(KEYS[0], clashing)
    assert "'sales'" in str(refused.value) and "partition_column" not in str(refused.value)
    assert storage.read([KEYS[0]]).to_pydict() == {"id": [0], "amount": [0.0]}


def test_replacing_storages_keep_dimensions_when_a_partition_is_replaced(make_storage) -> None:
    for kind in LOCAL_REPLACING:
        storage = written(make_storage, kind)
        storage.write(KEYS[0], pa.table({"id": [7, 8], "amount": [7.0, 8.0]}))
        assert SQL_ROWS[kind](storage, "region = ?", ["eu"]) == [(2,), (7,), (8,)]
