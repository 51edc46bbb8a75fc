import os
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partita.definitions.storage import DuckDB, Parquet
from partita.errors import StorageError
from partita.storage.base import WriteResult
from partita.storage.duckdb import DuckDBStorage
from partita.storage.parquet import ParquetStorage
from partita.storage.registry import open_storage

TRICKY_PARTITIONS = ["a/b", "..", "../../escape", 'it\'s "quoted"', "x=y", "nul\x00", "with space"]


def files_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


def make_storage(tmp_path: Path, hive_key: str | None = "date") -> ParquetStorage:
    return ParquetStorage(tmp_path / "warehouse", "sales", hive_key)


def test_pandas_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [1, 2, 3], "name": ["a", None, "c"], "price": [1.5, 2.0, None]})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    storage = make_storage(tmp_path)
    result = storage.write("2024-01-01", table)
    read = storage.read(["2024-01-01"])
    assert read.equals(storage.canonical(table))
    pd.testing.assert_frame_equal(read.to_pandas(), frame)
    assert result.rows == 3
    path = tmp_path / "warehouse" / "sales" / "date=2024-01-01" / "part-0.parquet"
    assert result.bytes == path.stat().st_size


def test_unpartitioned_asset_is_one_file(tmp_path: Path) -> None:
    storage = make_storage(tmp_path, hive_key=None)
    assert not storage.exists(None)
    storage.write(None, pa.table({"x": [1]}))
    assert storage.exists(None)
    assert files_under(tmp_path) == {tmp_path / "warehouse" / "sales" / "part-0.parquet"}
    assert storage.read(None).to_pylist() == [{"x": 1}]
    with pytest.raises(StorageError, match="not partitioned"):
        storage.read(["2024-01-01"])


def test_replace_is_atomic_and_leaves_only_the_part_file(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    storage.write("2024-01-01", pa.table({"x": [1]}))
    storage.write("2024-01-01", pa.table({"x": [2, 3]}))
    directory = tmp_path / "warehouse" / "sales" / "date=2024-01-01"
    assert [path.name for path in directory.iterdir()] == ["part-0.parquet"]
    assert list((tmp_path / "warehouse" / "sales").glob("*/*.parquet")) == [
        directory / "part-0.parquet"
    ]
    assert storage.read(["2024-01-01"]).to_pylist() == [{"x": 2}, {"x": 3}]


def test_failed_write_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = make_storage(tmp_path)
    storage.write("2024-01-01", pa.table({"x": [1]}))

    def failing_replace(source: object, target: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(StorageError, match="disk full") as raised:
        storage.write("2024-01-01", pa.table({"x": [2]}))
    assert "'sales'" in str(raised.value) and "2024-01-01" in str(raised.value)
    monkeypatch.undo()
    directory = tmp_path / "warehouse" / "sales" / "date=2024-01-01"
    assert [path.name for path in directory.iterdir()] == ["part-0.parquet"]
    assert storage.read(["2024-01-01"]).to_pylist() == [{"x": 1}]


def test_rewriting_identical_data_gives_identical_bytes(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    table = pa.table({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    first = storage.write("2024-01-01", table)
    path = tmp_path / "warehouse" / "sales" / "date=2024-01-01" / "part-0.parquet"
    first_bytes = path.read_bytes()
    second = storage.write("2024-01-01", table)
    assert path.read_bytes() == first_bytes
    assert first == second
    assert storage.write("2024-01-01", pa.table({"x": [9]})).data_version != first.data_version


def test_dataset_readers_see_the_hive_column(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    storage.write("2024-01-01", pa.table({"x": [1]}))
    storage.write("a/b=c", pa.table({"x": [2]}))
    root = tmp_path / "warehouse" / "sales"
    rows = duckdb.sql(
        "SELECT x, date FROM read_parquet(?, hive_partitioning = true) ORDER BY x",
        params=[str(root / "*" / "*.parquet")],
    ).fetchall()
    assert rows == [(1, "2024-01-01"), (2, "a/b=c")]
    frame = pd.read_parquet(root).sort_values("x")
    assert frame["x"].tolist() == [1, 2]
    assert frame["date"].astype(str).tolist() == ["2024-01-01", "a/b=c"]


def test_tricky_partition_values_stay_inside_the_warehouse(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    for number, partition in enumerate(TRICKY_PARTITIONS):
        storage.write(partition, pa.table({"x": [number]}))
    warehouse = (tmp_path / "warehouse").resolve()
    assert all(path.resolve().is_relative_to(warehouse) for path in files_under(tmp_path))
    assert len(files_under(tmp_path)) == len(TRICKY_PARTITIONS)
    for number, partition in enumerate(TRICKY_PARTITIONS):
        assert storage.exists(partition)
        assert storage.read([partition]).to_pylist() == [{"x": number}]
    everything = storage.read(None).column("x").to_pylist()
    assert everything == [TRICKY_PARTITIONS.index(value) for value in sorted(TRICKY_PARTITIONS)]


@pytest.mark.parametrize("asset", ["../evil", "a/b", "..", ".hidden"])
def test_unsafe_asset_names_are_rejected(tmp_path: Path, asset: str) -> None:
    with pytest.raises(StorageError, match="asset name"):
        ParquetStorage(tmp_path / "warehouse", asset, "date")


def test_column_named_like_the_hive_key_is_rejected(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    with pytest.raises(StorageError, match="partition_column"):
        storage.write("2024-01-01", pa.table({"date": ["2024-01-01"], "x": [1]}))


def test_read_concatenates_in_the_requested_order(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    storage.write("2024-01-02", pa.table({"x": [2]}))
    storage.write("2024-01-01", pa.table({"x": [1], "y": ["only here"]}))
    storage.write("2024-01-03", pa.table({"x": [3]}))
    assert storage.read(["2024-01-03", "2024-01-01"]).column("x").to_pylist() == [3, 1]
    whole = storage.read(None)
    assert whole.column("x").to_pylist() == [1, 2, 3]
    assert whole.column("y").to_pylist() == ["only here", None, None]
    assert "date" not in whole.column_names


def test_reading_a_missing_partition_names_it(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    storage.write("2024-01-01", pa.table({"x": [1]}))
    assert not storage.exists("2024-01-02")
    with pytest.raises(StorageError, match="2024-01-02"):
        storage.read(["2024-01-01", "2024-01-02"])


def test_reading_an_asset_without_data_fails(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="Materialize"):
        make_storage(tmp_path).read(None)


def test_cleanup_removes_temporary_leftovers(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    assert storage.cleanup() == []
    storage.write("2024-01-01", pa.table({"x": [1]}))
    directory = tmp_path / "warehouse" / "sales" / "date=2024-01-01"
    # A name partita gives a temporary file, of a process that no longer exists.
    leftover = directory / f".part-0.parquet.t1.999999999.{'0123abcd' * 4}.tmp"
    leftover.write_bytes(b"half a file")
    assert list((tmp_path / "warehouse" / "sales").glob("*/*.parquet")) == [
        directory / "part-0.parquet"
    ]
    assert storage.cleanup() == [leftover]
    assert not leftover.exists()
    assert storage.read(["2024-01-01"]).to_pylist() == [{"x": 1}]


def test_corrupt_file_gives_an_error_naming_it(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    storage.write("2024-01-01", pa.table({"x": [1]}))
    path = tmp_path / "warehouse" / "sales" / "date=2024-01-01" / "part-0.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(StorageError) as raised:
        storage.read(["2024-01-01"])
    message = str(raised.value)
    assert str(path) in message
    assert "--force" in message
    assert "2024-01-01" in message


def test_open_storage_builds_the_declared_storage(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    parquet = open_storage(Parquet(partition_column="day"), warehouse, "sales", "date")
    assert isinstance(parquet, ParquetStorage)
    assert parquet.hive_key == "day"
    unpartitioned = open_storage(Parquet(partition_column="day"), warehouse, "sales", None)
    assert isinstance(unpartitioned, ParquetStorage)
    assert unpartitioned.hive_key is None
    database = open_storage(DuckDB(table="t", merge_on=["id"]), warehouse, "sales", "date")
    assert isinstance(database, DuckDBStorage)
    assert (database.table, database.merge_on) == ("t", ("id",))
    result = parquet.write("2024-01-01", pa.table({"x": [1]}))
    assert isinstance(result, WriteResult)
    assert (warehouse / "sales" / "day=2024-01-01" / "part-0.parquet").is_file()


small_tables = st.integers(min_value=0, max_value=8).flatmap(
    lambda rows: st.builds(
        lambda numbers, texts, flags, reals: pa.table(
            {
                "number": pa.array(numbers, pa.int64()),
                "text": pa.array(texts, pa.string()),
                "flag": pa.array(flags, pa.bool_()),
                "real": pa.array(reals, pa.float64()),
            }
        ),
        st.lists(st.none() | st.integers(-(2**63), 2**63 - 1), min_size=rows, max_size=rows),
        st.lists(st.none() | st.text(), min_size=rows, max_size=rows),
        st.lists(st.none() | st.booleans(), min_size=rows, max_size=rows),
        st.lists(st.none() | st.floats(allow_nan=False), min_size=rows, max_size=rows),
    )
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=small_tables, partition=st.text(min_size=1, max_size=12))
def test_random_tables_round_trip(
    tmp_path_factory: pytest.TempPathFactory, table: pa.Table, partition: str
) -> None:
    storage = ParquetStorage(tmp_path_factory.mktemp("warehouse"), "random", "key")
    storage.write(partition, table)
    assert storage.read([partition]).equals(table)
    assert storage.read(None).equals(table)


def test_foreign_directories_are_ignored_when_reading_everything(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    storage.write("2024-01-01", pa.table({"x": [1]}))
    foreign = tmp_path / "warehouse" / "sales" / "date=%2e%2e"
    foreign.mkdir()
    (foreign / "part-0.parquet").write_bytes(b"not written by partita")
    assert storage.read(None).to_pylist() == [{"x": 1}]
