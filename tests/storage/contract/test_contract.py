"""The storage contract: what execution relies on, checked against every backend."""

from __future__ import annotations

import multiprocessing
import os
from datetime import date, datetime

import pyarrow as pa
import pytest

from partita.errors import StorageError

from .conftest import REPLACING

HOSTILE_KEYS = [
    "it's",
    'say "hi"',
    "a/b",
    "..",
    "../../escape",
    "a=b",
    "%41",
    "with space",
    "ünïcødé ✓",
    "tab\there",
    "k" * 200,
]


def sales(ids: list[int], generation: int = 1) -> pa.Table:
    return pa.table({"id": ids, "amount": [float(i * generation) for i in ids]})


def test_reads_back_what_was_written(kind, make_storage) -> None:
    storage = make_storage(kind)
    first, second = sales([1, 2]), sales([3])
    storage.write("2024-01-01", first)
    storage.write("2024-01-02", second)
    assert storage.read(["2024-01-02"]).equals(storage.canonical(second))
    assert storage.read(["2024-01-02", "2024-01-01"]).to_pydict() == {
        "id": [3, 1, 2],
        "amount": [3.0, 1.0, 2.0],
    }
    assert storage.read(None).to_pydict() == {"id": [1, 2, 3], "amount": [1.0, 2.0, 3.0]}
    assert storage.exists("2024-01-01") and not storage.exists("2024-01-03")


def test_writes_and_reads_the_canonical_form(kind, make_storage) -> None:
    storage = make_storage(kind)
    table = pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "at": pa.array([1_700_000_000, None], pa.timestamp("s")),
            "zoned": pa.array([1_700_000_000_000, 0], pa.timestamp("ms", tz="America/New_York")),
            "day": pa.array([date(2024, 1, 1), None], pa.date64()),
            "name": pa.array(["a", "b"], pa.large_string()),
            "label": pa.array(["x", "x"]).dictionary_encode(),
            "tags": pa.array([["p"], []], pa.large_list(pa.large_string())),
        }
    )
    canonical = storage.canonical(table)
    assert canonical.schema.field("at").type == pa.timestamp("us")
    assert canonical.schema.field("zoned").type == pa.timestamp("us", tz="UTC")
    assert canonical.schema.field("name").type == pa.string()
    assert canonical.column("at").to_pylist() == table.column("at").to_pylist()
    storage.write("2024-01-01", table)
    read = storage.read(["2024-01-01"])
    assert read.schema.equals(canonical.schema, check_metadata=False)
    assert read.equals(canonical)


def test_a_failing_write_leaves_the_published_data(kind, make_storage) -> None:
    storage = make_storage(kind)
    storage.write("2024-01-01", sales([1, 2]))
    calls = []

    def refuse() -> None:
        calls.append(True)
        raise RuntimeError("lease lost")

    with pytest.raises(RuntimeError, match="lease lost"):
        storage.write("2024-01-01", sales([1, 2], generation=2), before_publish=refuse)
    assert calls == [True]
    assert storage.read(["2024-01-01"]).to_pydict() == {"id": [1, 2], "amount": [1.0, 2.0]}
    assert storage.cleanup() == []  # nothing left behind
    # The storage stays usable, and before_publish lets a write through when it returns.
    storage.write("2024-01-01", sales([1, 2], generation=3), before_publish=lambda: None)
    assert storage.read(["2024-01-01"]).to_pydict() == {"id": [1, 2], "amount": [3.0, 6.0]}


def test_a_failing_write_of_a_new_partition_publishes_nothing(kind, make_storage) -> None:
    storage = make_storage(kind)
    with pytest.raises(KeyboardInterrupt):
        storage.write("2024-01-01", sales([1]), before_publish=_interrupt)
    assert not storage.exists("2024-01-01")
    storage.write("2024-01-02", sales([2]))
    assert storage.read(None).to_pydict() == {"id": [2], "amount": [2.0]}


def _interrupt() -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("replacing", REPLACING)
def test_a_write_replaces_the_whole_partition(replacing, make_storage) -> None:
    storage = make_storage(replacing)
    storage.write("2024-01-01", sales([1, 2, 3]))
    storage.write("2024-01-01", sales([4]))
    assert storage.read(None).to_pydict() == {"id": [4], "amount": [4.0]}


def test_merging_upserts_on_its_keys(make_storage) -> None:
    storage = make_storage("duckdb-merge")
    storage.write("2024-01-01", sales([1, 2]))
    storage.write("2024-01-01", sales([2, 3], generation=5))
    assert storage.merges
    assert sorted(storage.read(None).to_pylist(), key=lambda row: row["id"]) == [
        {"id": 1, "amount": 1.0},
        {"id": 2, "amount": 10.0},
        {"id": 3, "amount": 15.0},
    ]


def test_schema_is_published_and_evolves(kind, make_storage) -> None:
    storage = make_storage(kind)
    assert storage.published_schema() is None
    storage.write("2024-01-01", sales([1]))
    published = storage.published_schema()
    assert published is not None and published.names == ["id", "amount"]
    wider = sales([2]).append_column("note", pa.array(["new"], pa.large_string()))
    storage.write("2024-01-02", wider, evolve=True)
    assert storage.published_schema().names == ["id", "amount", "note"]
    assert storage.published_schema().field("note").type == pa.string()
    rows = sorted(storage.read(None).to_pylist(), key=lambda row: row["id"])
    assert rows == [
        {"id": 1, "amount": 1.0, "note": None},
        {"id": 2, "amount": 2.0, "note": "new"},
    ]


def test_hostile_partition_keys_round_trip(kind, make_storage) -> None:
    storage = make_storage(kind)
    for number, key in enumerate(HOSTILE_KEYS):
        storage.write(key, sales([number]))
    for number, key in enumerate(HOSTILE_KEYS):
        assert storage.exists(key), key
        assert storage.read([key]).to_pydict() == {"id": [number], "amount": [float(number)]}
    assert sorted(storage.read(None).column("id").to_pylist()) == list(range(len(HOSTILE_KEYS)))
    assert storage.cleanup() == []
    warehouse = storage.location()
    assert not any(".." in part for part in warehouse.split(os.sep))


def test_duplicate_column_names_are_refused(kind, make_storage) -> None:
    storage = make_storage(kind)
    table = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["id", "id"])
    with pytest.raises(StorageError, match="two columns named 'id' and 'id'"):
        storage.write("2024-01-01", table)
    assert not storage.exists("2024-01-01")


def test_an_unpartitioned_asset_is_replaced_whole(kind, make_storage) -> None:
    storage = make_storage(kind, partitioned=False)
    assert not storage.exists(None)
    storage.write(None, sales([1, 2]))
    storage.write(None, sales([2], generation=4))
    expected = [{"id": 2, "amount": 8.0}] if kind in REPLACING else None
    rows = storage.read(None).to_pylist()
    assert rows == (expected or [{"id": 1, "amount": 1.0}, {"id": 2, "amount": 8.0}])


def test_close_and_reopen_for_another_run(kind, make_storage) -> None:
    storage = make_storage(kind)
    storage.open("run-1")
    storage.write("2024-01-01", sales([1]))
    storage.close()
    # Between runs another process can read (and write) the data.
    assert _in_another_process(_read_ids, kind, storage.location()) == [1]
    storage.open("run-2")
    storage.open("run-2")  # opening again is harmless
    storage.write("2024-01-02", sales([2]))
    storage.close()
    storage.close()  # so is closing twice
    assert _in_another_process(_read_ids, kind, storage.location()) == [1, 2]
    assert sorted(storage.read(None).column("id").to_pylist()) == [1, 2]


def test_a_write_killed_before_publishing_leaves_old_data_and_cleanable_leftovers(
    kind, make_storage, tmp_path
) -> None:
    storage = make_storage(kind)
    storage.write("2024-01-01", sales([1]))
    process = multiprocessing.get_context("fork").Process(
        target=_write_then_die, args=(kind, os.environ["PARTITA_TEST_WAREHOUSE"])
    )
    process.start()
    process.join(60)
    assert process.exitcode == 9
    storage.cleanup()
    assert storage.cleanup() == []
    assert storage.read(None).to_pydict() == {"id": [1], "amount": [1.0]}
    assert not storage.exists("2024-01-02")
    assert not [path for path in (tmp_path / "warehouse").rglob("*.tmp")]


def _write_then_die(kind: str, warehouse: str) -> None:
    from partita.storage.registry import open_storage

    from .conftest import DECLARATIONS, warehouse_of

    storage = open_storage(DECLARATIONS[kind], warehouse_of(warehouse), "sales", "date")
    storage.open("doomed")
    storage.write("2024-01-01", sales([1], generation=9), before_publish=lambda: os._exit(9))


def _read_ids(kind: str, location: str, queue) -> None:
    from partita.storage.registry import open_storage

    from .conftest import DECLARATIONS, warehouse_of

    del location  # the storage is found from the warehouse, as in a separate program
    warehouse = warehouse_of(os.environ["PARTITA_TEST_WAREHOUSE"])
    storage = open_storage(DECLARATIONS[kind], warehouse, "sales", "date")
    queue.put(sorted(storage.read(None).column("id").to_pylist()))


def _in_another_process(target, kind: str, location: str):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(kind, location, queue))
    process.start()
    result = queue.get(timeout=120)
    process.join(60)
    return result


@pytest.fixture(autouse=True)
def _warehouse_for_children(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PARTITA_TEST_WAREHOUSE", str(tmp_path / "warehouse"))


def test_timestamps_finer_than_microseconds_are_refused_with_the_column(kind, make_storage) -> None:
    storage = make_storage(kind)
    table = sales([1]).append_column("at", pa.array([1], pa.timestamp("ns")))
    with pytest.raises(StorageError, match=r"column 'at'.*microsecond"):
        storage.write("2024-01-01", table)
    exact = sales([1]).append_column(
        "at", pa.array([datetime(2024, 1, 1, 12, 30, 1, 5)], pa.timestamp("ns"))
    )
    storage.write("2024-01-01", exact)
    assert storage.read(None).column("at").to_pylist() == [datetime(2024, 1, 1, 12, 30, 1, 5)]
