"""What the S3 Parquet storage adds to the contract suite, against the session's S3
server: conditional publishing, cleanup of leftover uploads, a layout other tools read,
and the settings a warehouse on object storage needs."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from pyarrow import fs

from partita.definitions.storage import DuckDB, Parquet
from partita.discovery import load_config
from partita.errors import ProjectError, StorageError
from partita.storage.encoding import data_version, encode_parquet
from partita.storage.object_location import ObjectWarehouse, parse_object_url
from partita.storage.registry import open_storage


def sales(ids: list[int], generation: int = 1) -> pa.Table:
    return pa.table({"id": ids, "amount": [float(i * generation) for i in ids]})


@pytest.fixture
def warehouse(s3_server) -> ObjectWarehouse:
    return parse_object_url(s3_server.new_prefix())


def test_two_writers_never_both_publish_a_partition(warehouse) -> None:
    first = open_storage(Parquet(), warehouse, "sales", "date")
    second = open_storage(Parquet(), warehouse, "sales", "date")
    first.write("2024-01-01", sales([1]))

    def the_other_writer_publishes_first() -> None:
        second.write("2024-01-01", sales([2], generation=5))

    with pytest.raises(StorageError, match="another writer published it while this one"):
        first.write(
            "2024-01-01", sales([3], generation=7), before_publish=the_other_writer_publishes_first
        )

    assert first.read(["2024-01-01"]).to_pylist() == [{"id": 2, "amount": 10.0}]


def test_a_new_partition_is_published_by_one_writer_only(warehouse) -> None:
    first = open_storage(Parquet(), warehouse, "sales", "date")
    second = open_storage(Parquet(), warehouse, "sales", "date")

    with pytest.raises(StorageError, match="another writer published it"):
        first.write(
            "2024-01-02",
            sales([1]),
            before_publish=lambda: second.write("2024-01-02", sales([9])),
        )
    assert first.read(["2024-01-02"]).column("id").to_pylist() == [9]


def test_cleanup_aborts_the_assets_leftover_uploads(warehouse, s3_server) -> None:
    client = s3_server.client()
    storage = open_storage(Parquet(), warehouse, "sales", "date")
    mine = warehouse.key("sales", "date=2024-01-01", "part-0.parquet")
    others = warehouse.key("salesman", "date=2024-01-01", "part-0.parquet")
    for key in (mine, others):
        upload = client.create_multipart_upload(Bucket=warehouse.bucket, Key=key)
        client.upload_part(
            Bucket=warehouse.bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"x"
        )

    assert [str(key) for key in storage.cleanup()] == [mine]

    left = client.list_multipart_uploads(Bucket=warehouse.bucket, Prefix=warehouse.prefix)
    assert [u["Key"] for u in left.get("Uploads", [])] == [others]
    assert storage.cleanup() == []


def test_the_hive_layout_reads_with_pyarrow_and_duckdb(warehouse, s3_server) -> None:
    storage = open_storage(Parquet(), warehouse, "sales", "date")
    storage.write("2024-01-01", sales([1, 2]))
    storage.write("2024-01-02", sales([3]))

    s3 = fs.S3FileSystem(
        endpoint_override=s3_server.endpoint,
        scheme="http",
        access_key=s3_server.env["AWS_ACCESS_KEY_ID"],
        secret_key=s3_server.env["AWS_SECRET_ACCESS_KEY"],
        region=s3_server.env["AWS_DEFAULT_REGION"],
    )
    dataset = ds.dataset(
        f"{warehouse.bucket}/{warehouse.key('sales')}", filesystem=s3, partitioning="hive"
    )
    table = dataset.to_table().sort_by("id")
    assert table.column("id").to_pylist() == [1, 2, 3]
    assert [str(d) for d in table.column("date").to_pylist()] == [
        "2024-01-01",
        "2024-01-01",
        "2024-01-02",
    ]
    totals = duckdb.sql("SELECT date, sum(amount) AS total FROM dataset GROUP BY 1 ORDER BY 1")
    assert [row[1] for row in totals.fetchall()] == [3.0, 3.0]


def test_duckdb_storage_is_refused_on_object_storage(warehouse) -> None:
    with pytest.raises(StorageError, match="only Parquet\\(\\) is stored: a DuckDB file needs"):
        open_storage(DuckDB(database="warehouse.duckdb"), warehouse, "sales", "date")


def test_a_warehouse_on_s3_needs_a_catalog_elsewhere(project, monkeypatch) -> None:
    monkeypatch.delenv("PARTITA_CATALOG", raising=False)
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text('[tool.partita]\nwarehouse = "s3://bucket/team/wh"\n')
    with pytest.raises(ProjectError, match=r"catalog = 'sqlite:///path/catalog\.db'"):
        load_config(project.root)

    pyproject.write_text(
        '[tool.partita]\nwarehouse = "s3://bucket/team/wh"\ncatalog = "sqlite:///srv/c.db"\n'
    )
    config = load_config(project.root)
    assert config.warehouse == ObjectWarehouse("s3", "bucket", "team/wh")
    pyproject.write_text(f'[tool.partita]\nwarehouse = "file://{project.root}/local"\n')
    assert load_config(project.root).warehouse == project.root / "local"


def test_replaced_versions_are_kept_under_the_history_prefix_out_of_hive_readers_sight(
    warehouse, s3_server
) -> None:
    storage = open_storage(Parquet(), warehouse, "sales", "date")
    first = storage.write("2024-01-01", sales([1, 2]))
    storage.write("2024-01-01", sales([1, 2], generation=3))

    listed = s3_server.client().list_objects_v2(Bucket=warehouse.bucket, Prefix=warehouse.prefix)
    keys = sorted(item["Key"] for item in listed["Contents"])
    assert keys == [
        warehouse.key(".history", "sales", "date=2024-01-01", f"{first.data_version}.parquet"),
        warehouse.key("sales", "date=2024-01-01", "part-0.parquet"),
    ]
    s3 = fs.S3FileSystem(
        endpoint_override=s3_server.endpoint,
        scheme="http",
        access_key=s3_server.env["AWS_ACCESS_KEY_ID"],
        secret_key=s3_server.env["AWS_SECRET_ACCESS_KEY"],
        region=s3_server.env["AWS_DEFAULT_REGION"],
    )
    dataset = ds.dataset(
        f"{warehouse.bucket}/{warehouse.key('sales')}", filesystem=s3, partitioning="hive"
    )
    assert dataset.to_table().column("amount").to_pylist() == [3.0, 6.0]
    assert storage.read_version("2024-01-01", first.data_version).column("amount").to_pylist() == [
        1.0,
        2.0,
    ]


def test_an_object_replaced_while_it_was_being_kept_is_not_kept_under_its_name(
    warehouse,
) -> None:
    first = open_storage(Parquet(), warehouse, "sales", "date")
    second = open_storage(Parquet(), warehouse, "sales", "date")
    first.write("2024-01-01", sales([1]))
    looked_up = first._current

    def look_up_then_lose_the_race(key, partition):
        found = looked_up(key, partition)
        second.write("2024-01-01", sales([2], generation=5))  # between look-up and copy
        return found

    first._current = look_up_then_lose_the_race
    with pytest.raises(StorageError, match="another writer published it"):
        first.write("2024-01-01", sales([3], generation=7))

    assert first.read(["2024-01-01"]).to_pylist() == [{"id": 2, "amount": 10.0}]
    for kept in first.retained_versions():  # each reads back as its name says
        table = first.read_version("2024-01-01", kept.data_version)
        assert table.to_pylist() == [{"id": 1, "amount": 1.0}]


def test_an_object_written_without_a_recorded_version_is_hashed_and_kept(
    warehouse, s3_server
) -> None:
    encoded = encode_parquet(sales([4]))
    key = warehouse.key("sales", "date=2024-01-01", "part-0.parquet")
    s3_server.client().put_object(Bucket=warehouse.bucket, Key=key, Body=encoded)
    storage = open_storage(Parquet(), warehouse, "sales", "date")
    storage.write("2024-01-01", sales([5]))

    kept = storage.retained_versions()
    assert [v.data_version for v in kept] == [data_version(encoded)]
    storage.restore("2024-01-01", data_version(encoded))
    assert storage.read(["2024-01-01"]).to_pylist() == [{"id": 4, "amount": 4.0}]


def test_a_damaged_kept_object_is_refused_by_name(warehouse, s3_server) -> None:
    storage = open_storage(Parquet(), warehouse, "sales", "date")
    old = storage.write("2024-01-01", sales([1]))
    storage.write("2024-01-01", sales([2]))
    key = warehouse.key(".history", "sales", "date=2024-01-01", f"{old.data_version}.parquet")
    s3_server.client().put_object(Bucket=warehouse.bucket, Key=key, Body=b"not parquet")

    with pytest.raises(StorageError, match=f"kept version {old.data_version} .* is damaged"):
        storage.restore("2024-01-01", old.data_version)
    assert storage.read(["2024-01-01"]).column("id").to_pylist() == [2]


def test_a_restore_racing_a_writer_publishes_nothing(warehouse) -> None:
    storage = open_storage(Parquet(), warehouse, "sales", "date")
    other = open_storage(Parquet(), warehouse, "sales", "date")
    good = storage.write("2024-01-01", sales([1]))
    storage.write("2024-01-01", sales([2]))

    with pytest.raises(StorageError, match="another writer published it"):
        storage.restore(
            "2024-01-01",
            good.data_version,
            before_publish=lambda: other.write("2024-01-01", sales([3])),
        )
    assert storage.read(["2024-01-01"]).column("id").to_pylist() == [3]
    assert storage.read_version("2024-01-01", good.data_version).column("id").to_pylist() == [1]


def test_cleanup_aborts_leftover_uploads_under_the_history_prefix(warehouse, s3_server) -> None:
    client = s3_server.client()
    storage = open_storage(Parquet(), warehouse, "sales", "date")
    key = warehouse.key(".history", "sales", "date=2024-01-01", "0123456789abcdef.parquet")
    client.create_multipart_upload(Bucket=warehouse.bucket, Key=key)
    assert [str(k) for k in storage.cleanup()] == [key]
