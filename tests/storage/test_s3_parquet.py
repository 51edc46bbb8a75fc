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


def test_object_storage_keeps_no_earlier_version_and_says_so(warehouse) -> None:
    storage = open_storage(Parquet(), warehouse, "sales", "date")
    first = storage.write("2024-01-01", sales([1]))
    storage.write("2024-01-01", sales([1], generation=2))

    assert storage.retained_versions() == []
    with pytest.raises(StorageError, match="keeps no earlier versions yet"):
        storage.read_version("2024-01-01", first.data_version)
    with pytest.raises(StorageError, match="cannot be read as of a run or restored"):
        storage.restore("2024-01-01", first.data_version)
    assert storage.read(["2024-01-01"]).to_pylist() == [{"id": 1, "amount": 2.0}]
