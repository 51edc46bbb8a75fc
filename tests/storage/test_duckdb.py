from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partita.errors import InvalidDataError, StorageError
from partita.storage.duckdb import DuckDBStorage, quote_identifier
from partita.storage.encoding import table_version


def make_storage(
    tmp_path: Path,
    hive_key: str | None = "date",
    table: str | None = None,
    merge_on: tuple[str, ...] | None = None,
    asset: str = "sales",
    database: str = "warehouse.duckdb",
) -> DuckDBStorage:
    return DuckDBStorage(tmp_path / "warehouse", asset, hive_key, table, merge_on, database)


def table_names(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return {row[0] for row in connection.execute("SHOW TABLES").fetchall()}


def test_quote_identifier_doubles_quotes() -> None:
    assert quote_identifier('a"b') == '"a""b"'


def test_pandas_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [1, 2, 3], "name": ["a", None, "c"], "price": [1.5, 2.0, None]})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    storage = make_storage(tmp_path)
    result = storage.write("2024-01-01", table)
    read = storage.read(["2024-01-01"])
    assert read.column_names == ["id", "name", "price"]
    assert read.equals(table.cast(read.schema))
    pd.testing.assert_frame_equal(read.to_pandas(), frame)
    assert result.rows == 3
    assert result.bytes == storage.canonical(table).nbytes
    assert result.data_version == table_version(storage.canonical(table))


def test_unpartitioned_asset_replaces_the_whole_table(tmp_path: Path) -> None:
    storage = make_storage(tmp_path, hive_key=None)
    assert not storage.exists(None)
    storage.write(None, pa.table({"x": [1, 2]}))
    storage.write(None, pa.table({"x": [3]}))
    assert storage.exists(None)
    assert storage.read(None).to_pylist() == [{"x": 3}]


def test_database_is_closed_between_operations(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    storage.write("2024-01-01", pa.table({"x": [1]}))
    # A connection with other settings fails while one is still open in this process.
    with duckdb.connect(str(tmp_path / "warehouse" / "warehouse.duckdb"), read_only=True) as c:
        assert c.execute('SELECT count(*) FROM "sales"').fetchall() == [(1,)]
    assert storage.read(None).to_pylist() == [{"x": 1}]


def test_replacing_a_partition_keeps_the_others(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    storage.write("2024-01-01", pa.table({"x": [1, 2]}))
    storage.write("2024-01-02", pa.table({"x": [3]}))
    storage.write("2024-01-01", pa.table({"x": [4]}))
    assert storage.read(["2024-01-01"]).to_pylist() == [{"x": 4}]
    assert storage.read(["2024-01-02"]).to_pylist() == [{"x": 3}]
    assert storage.read(None).column("x").to_pylist() == [4, 3]
    assert storage.read(["2024-01-02", "2024-01-01"]).column("x").to_pylist() == [3, 4]


def test_writing_a_partition_twice_leaves_the_same_rows(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    table = pa.table({"x": [1, 2, 3]})
    first = storage.write("2024-01-01", table)
    second = storage.write("2024-01-01", table)
    assert first == second
    assert storage.read(None).to_pylist() == table.to_pylist()


def test_partition_column_is_not_returned_and_cannot_be_supplied(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    storage.write("2024-01-01", pa.table({"x": [1]}))
    assert storage.read(None).column_names == ["x"]
    with pytest.raises(StorageError, match="_partition"):
        storage.write("2024-01-01", pa.table({"_partition": ["a"]}))


def test_empty_partition_counts_as_existing(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    assert not storage.exists("2024-01-01")
    storage.write("2024-01-01", pa.table({"x": pa.array([], pa.int64())}))
    assert storage.exists("2024-01-01")
    assert not storage.exists("2024-01-02")
    empty = storage.read(["2024-01-01"])
    assert empty.num_rows == 0
    assert empty.column_names == ["x"]


def test_reading_missing_data_names_it(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    with pytest.raises(StorageError, match="does not exist"):
        storage.read(None)
    storage.write("2024-01-01", pa.table({"x": [1]}))
    with pytest.raises(StorageError, match="2024-01-02"):
        storage.read(["2024-01-01", "2024-01-02"])
    with pytest.raises(StorageError, match="does not exist"):
        make_storage(tmp_path, asset="other").read(None)


def test_merge_on_upserts_late_updates(tmp_path: Path) -> None:
    storage = make_storage(tmp_path, merge_on=("id",))
    storage.write("2024-01-01", pa.table({"id": [1, 2], "value": ["a", "b"]}))
    storage.write("2024-01-02", pa.table({"id": [3], "value": ["c"]}))
    storage.write("2024-01-02", pa.table({"id": [2, 4], "value": ["B", "d"]}))
    rows = sorted(storage.read(None).to_pylist(), key=lambda row: row["id"])
    assert rows == [
        {"id": 1, "value": "a"},
        {"id": 2, "value": "B"},
        {"id": 3, "value": "c"},
        {"id": 4, "value": "d"},
    ]
    assert sorted(storage.read(["2024-01-02"]).column("id").to_pylist()) == [2, 3, 4]


def test_merge_on_unpartitioned_table(tmp_path: Path) -> None:
    storage = make_storage(tmp_path, hive_key=None, merge_on=("id", "kind"))
    storage.write(None, pa.table({"id": [1, 1], "kind": ["x", None], "value": [10, 20]}))
    storage.write(None, pa.table({"id": [1], "kind": [None], "value": [21]}))
    rows = sorted(storage.read(None).to_pylist(), key=lambda row: row["value"])
    assert rows == [
        {"id": 1, "kind": "x", "value": 10},
        {"id": 1, "kind": None, "value": 21},
    ]


def test_merge_on_rejects_missing_columns_and_duplicate_keys(tmp_path: Path) -> None:
    storage = make_storage(tmp_path, merge_on=("id", "region"))
    with pytest.raises(StorageError, match="region"):
        storage.write("2024-01-01", pa.table({"id": [1]}))
    with pytest.raises(StorageError, match="Deduplicate"):
        storage.write("2024-01-01", pa.table({"id": [1, 1], "region": ["eu", "eu"]}))
    assert not storage.exists("2024-01-01")


def test_failing_insert_rolls_back(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    storage.write("2024-01-01", pa.table({"x": [1, 2]}))
    with pytest.raises(StorageError, match="sales") as raised:
        storage.write("2024-01-01", pa.table({"x": ["not a number"]}))
    assert "2024-01-01" in str(raised.value)
    assert storage.read(["2024-01-01"]).to_pylist() == [{"x": 1}, {"x": 2}]
    with pytest.raises(StorageError, match="unexpected columns"):
        storage.write("2024-01-01", pa.table({"x": [5], "extra": [1]}))
    assert storage.read(None).to_pylist() == [{"x": 1}, {"x": 2}]
    assert not storage.exists("2024-01-09")


def test_hostile_table_name_round_trips_and_drops_nothing(tmp_path: Path) -> None:
    bystander = make_storage(tmp_path, table="y", asset="bystander")
    bystander.write("2024-01-01", pa.table({"x": [42]}))
    hostile = make_storage(tmp_path, table='x"; DROP TABLE y; --')
    hostile.write("2024-01-01", pa.table({"x": [1]}))
    hostile.write("2024-01-01", pa.table({"x": [2]}))
    assert hostile.read(None).to_pylist() == [{"x": 2}]
    assert bystander.read(None).to_pylist() == [{"x": 42}]
    names = table_names(tmp_path / "warehouse" / "warehouse.duckdb")
    assert names == {
        "y",
        'x"; DROP TABLE y; --',
        "_partita_partitions",
        "_partita_versions",
        '_partita_history_x"; DROP TABLE y; --',  # the replaced version, kept
    }


def test_tricky_partition_values_round_trip(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    partitions = ["a/b", "..", 'it\'s "quoted"', "x=y", "nul\x00", "with space", "'; --"]
    for number, partition in enumerate(partitions):
        storage.write(partition, pa.table({"x": [number]}))
    for number, partition in enumerate(partitions):
        assert storage.exists(partition)
        assert storage.read([partition]).to_pylist() == [{"x": number}]
    assert {path.name for path in tmp_path.rglob("*")} <= {"warehouse", "warehouse.duckdb"}


@pytest.mark.parametrize("database", ["../outside.duckdb", "/tmp/outside.duckdb", "a/../../x.db"])
def test_database_outside_the_warehouse_is_rejected(tmp_path: Path, database: str) -> None:
    with pytest.raises(StorageError, match="relative file name"):
        make_storage(tmp_path, database=database)


def test_database_in_a_subfolder_is_created(tmp_path: Path) -> None:
    storage = make_storage(tmp_path, database="marts/sales.duckdb")
    storage.write("2024-01-01", pa.table({"x": [1]}))
    assert (tmp_path / "warehouse" / "marts" / "sales.duckdb").is_file()


@pytest.mark.parametrize("table", ["", "_partita_partitions", "a\x00b"])
def test_unusable_table_names_are_rejected(tmp_path: Path, table: str) -> None:
    with pytest.raises(StorageError, match="table name"):
        make_storage(tmp_path, table=table)


def test_cleanup_has_nothing_to_remove(tmp_path: Path) -> None:
    assert make_storage(tmp_path).cleanup() == []


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


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=small_tables, partition=st.text(max_size=12))
def test_random_tables_round_trip(
    tmp_path_factory: pytest.TempPathFactory, table: pa.Table, partition: str
) -> None:
    storage = make_storage(tmp_path_factory.mktemp("duckdb"))
    storage.write(partition, table)
    storage.write(partition, table)
    assert storage.read([partition]).equals(table)
    assert storage.read(None).equals(table)


def test_columns_are_matched_by_name_not_position(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    storage.write("2024-01-01", pa.table({"a": [1], "b": ["one"]}))
    storage.write("2024-01-02", pa.table({"b": ["two"], "a": [2]}))
    assert storage.read(None).to_pylist() == [{"a": 1, "b": "one"}, {"a": 2, "b": "two"}]


def test_a_table_named_like_a_file_never_reads_that_file(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("secret,value\n1,2\n")
    storage = DuckDBStorage(tmp_path / "warehouse", "x", "date", "data.csv", None, "w.duckdb")
    assert not storage.exists("2024-01-01")
    assert storage.published_schema() is None
    storage.write("2024-01-01", pa.table({"v": [1]}))
    assert storage.read(None).to_pylist() == [{"v": 1}]


def test_columns_differing_only_in_case_are_refused(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    table = pa.table({"A": [1], "a": [2]})
    with pytest.raises(InvalidDataError, match="differing only in case 'A' and 'a'"):
        storage.write("2024-01-01", table)
    assert not storage.exists("2024-01-01")


def test_before_publish_runs_inside_the_transaction(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    storage.write("2024-01-01", pa.table({"x": [1]}))
    calls = []

    def fence() -> None:
        # The new rows are written in the transaction, not yet committed.
        calls.append(storage.read(None).to_pydict())
        raise ValueError("fenced")

    with pytest.raises(ValueError, match="fenced"):
        storage.write("2024-01-01", pa.table({"x": [2]}), before_publish=fence)
    assert calls == [{"x": [2]}]
    assert storage.read(None).to_pydict() == {"x": [1]}  # rolled back


def _without_dimension_columns(storage: DuckDBStorage) -> None:
    """Make the table look as partita wrote it before it stored dimension columns."""
    with duckdb.connect(str(storage.path)) as connection:
        for name in ("date", "region"):
            connection.execute(f'ALTER TABLE "sales" DROP COLUMN "{name}"')
            connection.execute(f'ALTER TABLE "_partita_history_sales" DROP COLUMN "{name}"')


def _regions(storage: DuckDBStorage) -> list[tuple]:
    with duckdb.connect(str(storage.path), read_only=True) as connection:
        query = 'SELECT "_partition", "date", "region", "id" FROM "sales" ORDER BY "id"'
        return connection.execute(query).fetchall()


def test_a_table_without_dimension_columns_gets_them_filled_on_its_next_write(
    tmp_path: Path,
) -> None:
    storage = make_storage(tmp_path, hive_key="date|region")
    storage.write("2024-01-01|eu", pa.table({"id": [1]}))
    old = storage.write("2024-01-01|us", pa.table({"id": [2]}))
    storage.write("2024-01-01|us", pa.table({"id": [3]}))  # keeps version `old`
    _without_dimension_columns(storage)
    storage.write("2024-01-02|eu", pa.table({"id": [4]}))
    assert _regions(storage) == [
        ("2024-01-01|eu", "2024-01-01", "eu", 1),
        ("2024-01-01|us", "2024-01-01", "us", 3),
        ("2024-01-02|eu", "2024-01-02", "eu", 4),
    ]
    assert storage.read(["2024-01-01|us"]).to_pydict() == {"id": [3]}
    storage.restore("2024-01-01|us", old.data_version)  # kept without the columns
    assert _regions(storage)[1] == ("2024-01-01|us", "2024-01-01", "us", 2)
    assert storage.read_version(
        "2024-01-01|us", storage.write("2024-01-01|us", pa.table({"id": [5]})).data_version
    ).to_pydict() == {"id": [5]}
    assert storage.read_version("2024-01-01|us", old.data_version).to_pydict() == {"id": [2]}


def test_a_restore_into_a_table_without_dimension_columns_adds_them(tmp_path: Path) -> None:
    storage = make_storage(tmp_path, hive_key="date|region")
    old = storage.write("2024-01-01|eu", pa.table({"id": [1]}))
    storage.write("2024-01-01|eu", pa.table({"id": [2]}))
    _without_dimension_columns(storage)
    storage.restore("2024-01-01|eu", old.data_version)
    assert _regions(storage) == [("2024-01-01|eu", "2024-01-01", "eu", 1)]
    assert storage.read(None).to_pydict() == {"id": [1]}
