"""SQLiteCatalog: schema lifecycle, records and states, history, runs, concurrency."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from partita.catalog import ConsumedInput, MaterializationRecord, SQLiteCatalog
from partita.catalog.sqlite.schema import MIGRATIONS as _MIGRATIONS
from partita.catalog.sqlite.schema import SCHEMA_VERSION
from partita.errors import CatalogError

T0 = datetime(2013, 1, 1, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def attempt(
    asset: str = "flights",
    partition: str | None = "2013-01-01",
    status: str = "materialized",
    minute: int = 0,
    run_id: str = "run-1",
    **fields: object,
) -> MaterializationRecord:
    defaults: dict[str, object] = {"attempts": 1}
    if status == "materialized":
        defaults.update(rows=10, bytes=100, data_version=f"dv-{minute}", code_version="v1")
    else:
        defaults.update(error="boom")
    defaults.update(fields)
    return MaterializationRecord(
        asset=asset,
        partition=partition,
        run_id=run_id,
        status=status,
        started=at(minute),
        finished=at(minute) + timedelta(seconds=30),
        **defaults,  # type: ignore[arg-type]
    )


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / ".partita" / "catalog.db"


@pytest.fixture
def catalog(catalog_path: Path):
    with SQLiteCatalog(catalog_path) as opened:
        yield opened


# --- schema ---


def test_schema_is_created_on_first_use_and_reopened(catalog_path: Path) -> None:
    with SQLiteCatalog(catalog_path) as catalog:
        catalog.record(attempt())
    assert catalog_path.is_file()

    with SQLiteCatalog(catalog_path) as reopened:
        assert set(reopened.states("flights")) == {"2013-01-01"}

    connection = sqlite3.connect(catalog_path)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()


def test_catalog_from_newer_partita_is_refused(catalog_path: Path) -> None:
    SQLiteCatalog(catalog_path).close()
    connection = sqlite3.connect(catalog_path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()

    with pytest.raises(CatalogError) as raised:
        SQLiteCatalog(catalog_path)
    message = str(raised.value)
    assert str(catalog_path) in message
    assert (
        f"was written by a newer partita (schema {SCHEMA_VERSION + 1},"
        f" this partita reads up to {SCHEMA_VERSION}): upgrade partita"
    ) in message


def test_file_that_is_not_a_database_is_refused(catalog_path: Path) -> None:
    catalog_path.parent.mkdir(parents=True)
    catalog_path.write_text("these are not the bytes you are looking for\n" * 100)

    with pytest.raises(CatalogError, match="not a database") as raised:
        SQLiteCatalog(catalog_path)
    assert str(catalog_path) in str(raised.value)


def test_foreign_sqlite_database_is_refused(catalog_path: Path) -> None:
    catalog_path.parent.mkdir(parents=True)
    connection = sqlite3.connect(catalog_path)
    connection.execute("CREATE TABLE something_else (x)")
    connection.close()

    with pytest.raises(CatalogError, match="not a partita catalog"):
        SQLiteCatalog(catalog_path)


def test_closed_catalog_raises(catalog_path: Path) -> None:
    catalog = SQLiteCatalog(catalog_path)
    catalog.close()
    catalog.close()
    with pytest.raises(CatalogError, match="closed"):
        catalog.states("flights")


def test_naive_datetime_is_refused(catalog: SQLiteCatalog) -> None:
    with pytest.raises(CatalogError, match="time zone"):
        catalog.start_run("materialize", datetime(2013, 1, 1))


# --- records and states ---


def test_record_and_states_round_trip(catalog: SQLiteCatalog) -> None:
    inputs = (
        ConsumedInput("raw_flights", "2013-01-01", "a1"),
        ConsumedInput("airports", None, "b2"),
    )
    catalog.record(attempt(inputs=inputs, watermark="2013-01-01T23:59:00", rows=42))
    catalog.record(attempt(asset="airports", partition=None, minute=1))

    flights = catalog.states("flights")
    state = flights["2013-01-01"]
    assert state.partition == "2013-01-01"
    assert state.last_status == "materialized"
    assert state.data_version == "dv-0"
    assert state.code_version == "v1"
    assert state.inputs == inputs
    assert state.materialized_at == at(0) + timedelta(seconds=30)
    assert state.last_attempt_at == state.materialized_at
    assert state.materialized_at.tzinfo is not None
    assert state.watermark == "2013-01-01T23:59:00"
    assert state.rows == 42
    assert state.error is None

    airports = catalog.states("airports")
    assert list(airports) == [None]
    assert airports[None].partition is None
    assert airports[None].inputs == ()

    assert catalog.states("nothing") == {}
    assert catalog.all_states() == {"airports": airports, "flights": flights}


def test_failed_attempt_keeps_published_data(catalog: SQLiteCatalog) -> None:
    published_inputs = (ConsumedInput("raw_flights", "2013-01-01", "a1"),)
    catalog.record(attempt(minute=0, inputs=published_inputs, watermark="w0"))
    catalog.record(attempt(status="failed", minute=5, error="KeyError: 'dep_time'", attempts=3))

    state = catalog.states("flights")["2013-01-01"]
    assert state.last_status == "failed"
    assert state.error == "KeyError: 'dep_time'"
    assert state.last_attempt_at == at(5) + timedelta(seconds=30)
    assert state.data_version == "dv-0"
    assert state.code_version == "v1"
    assert state.inputs == published_inputs
    assert state.materialized_at == at(0) + timedelta(seconds=30)
    assert state.watermark == "w0"
    assert state.rows == 10

    catalog.record(attempt(minute=10))
    recovered = catalog.states("flights")["2013-01-01"]
    assert recovered.last_status == "materialized"
    assert recovered.error is None
    assert recovered.data_version == "dv-10"
    assert recovered.inputs == ()


def test_first_attempt_failing_publishes_nothing(catalog: SQLiteCatalog) -> None:
    catalog.record(attempt(status="interrupted", error="KeyboardInterrupt"))

    state = catalog.states("flights")["2013-01-01"]
    assert state.last_status == "interrupted"
    assert state.data_version is None
    assert state.materialized_at is None
    assert state.inputs == ()


def test_record_many_is_atomic(catalog: SQLiteCatalog) -> None:
    batch = [
        attempt(partition="2013-01-01"),
        attempt(partition="2013-01-02", status="exploded"),  # breaks the status constraint
        attempt(partition="2013-01-03"),
    ]
    with pytest.raises(CatalogError, match="constraint") as raised:
        catalog.record_many(batch)
    assert str(catalog.path) in str(raised.value)

    assert catalog.all_states() == {}
    assert catalog.history() == []

    catalog.record_many([batch[0], batch[2]])
    assert set(catalog.states("flights")) == {"2013-01-01", "2013-01-03"}


def test_record_many_applies_attempts_in_order(catalog: SQLiteCatalog) -> None:
    catalog.record_many([attempt(minute=0), attempt(status="failed", minute=1)])
    state = catalog.states("flights")["2013-01-01"]
    assert (state.last_status, state.data_version) == ("failed", "dv-0")


# --- sequences ---


def sequences(catalog: SQLiteCatalog, partition: str | None = "2013-01-01") -> tuple[int, ...]:
    state = catalog.states("flights")[partition]
    return (state.seq, state.published_seq, state.consumed_seq)


def test_success_sets_every_sequence(catalog: SQLiteCatalog) -> None:
    catalog.record(attempt(asset="other", partition=None))  # id 1
    catalog.record(attempt(consumed_seq=1))  # id 2

    assert sequences(catalog) == (2, 2, 1)
    assert catalog.sequence() == 2


def test_identical_rebuild_keeps_published_seq(catalog: SQLiteCatalog) -> None:
    catalog.record(attempt(minute=0, data_version="same", consumed_seq=0))  # id 1
    catalog.record(attempt(minute=1, data_version="same", consumed_seq=1))  # id 2
    assert sequences(catalog) == (2, 1, 1)

    catalog.record(attempt(minute=2, data_version="changed", consumed_seq=2))  # id 3
    assert sequences(catalog) == (3, 3, 2)


def test_unsuccessful_attempts_move_only_seq(catalog: SQLiteCatalog) -> None:
    catalog.record(attempt(status="failed", minute=0))  # id 1
    assert sequences(catalog) == (1, 0, 0)

    catalog.record(attempt(minute=1, consumed_seq=1))  # id 2
    catalog.record(attempt(status="failed", minute=2, consumed_seq=99))  # id 3
    assert sequences(catalog) == (3, 2, 1)
    catalog.record(attempt(status="interrupted", minute=3))  # id 4
    assert sequences(catalog) == (4, 2, 1)


def test_interrupted_lease_moves_seq(catalog: SQLiteCatalog) -> None:
    catalog.record(attempt(minute=0, consumed_seq=0))  # id 1
    assert catalog.acquire_lease("flights", "2013-01-01", "dead-run", at(1), 30.0) is None

    assert catalog.acquire_lease("flights", "2013-01-01", "run-2", at(5), 30.0) is None

    assert catalog.history(limit=1)[0].status == "interrupted"
    assert sequences(catalog) == (2, 1, 0)
    assert catalog.sequence() == 2


def test_dead_leases_move_seq(catalog: SQLiteCatalog) -> None:
    catalog.record(attempt(minute=0))  # id 1
    catalog.acquire_lease("flights", "2013-01-01", "dead-run", at(1), 30.0)

    assert catalog.interrupt_dead_leases(at(5)) == [("flights", "2013-01-01")]
    assert sequences(catalog) == (2, 1, 0)


def test_sequence_of_an_empty_catalog_is_zero(catalog: SQLiteCatalog) -> None:
    assert catalog.sequence() == 0
    assert catalog.read_units([("flights", "2013-01-01")]) == ({}, 0)


def test_read_units_reads_only_the_given_units(catalog: SQLiteCatalog) -> None:
    catalog.record_many(
        [
            attempt(partition="2013-01-01"),
            attempt(partition="2013-01-02"),
            attempt(asset="airports", partition=None),
        ]
    )

    states, sequence = catalog.read_units(
        [("flights", "2013-01-02"), ("airports", None), ("flights", "2099-01-01")]
    )

    assert sequence == 3
    assert states == {
        "flights": {"2013-01-02": catalog.states("flights")["2013-01-02"]},
        "airports": {None: catalog.states("airports")[None]},
    }
    assert states["airports"][None].seq == 3


def test_read_units_reads_many_units(catalog: SQLiteCatalog) -> None:
    keys = [f"p{i:04d}" for i in range(1200)]  # more than one query's worth
    catalog.record_many([attempt(partition=key) for key in keys])

    states, sequence = catalog.read_units([("flights", key) for key in keys[1:]])

    assert sorted(states["flights"]) == keys[1:]
    assert sequence == 1200


def test_read_units_is_one_consistent_snapshot(catalog_path: Path) -> None:
    with SQLiteCatalog(catalog_path) as reader, SQLiteCatalog(catalog_path) as writer:
        writer.record(attempt(partition="2013-01-01"))
        connection = reader._connection
        assert connection is not None
        real_execute = connection.execute
        # Pretend another process commits an attempt between the reader's two queries.
        calls = []

        class Interleaved:
            def execute(self, sql: str, *parameters: object) -> sqlite3.Cursor:
                calls.append(sql)
                if "FROM materializations" in sql:
                    writer.record(attempt(partition="2013-01-02"))
                return real_execute(sql, *parameters)

            def __getattr__(self, name: str) -> object:
                return getattr(connection, name)

        reader._connection = Interleaved()  # type: ignore[assignment]
        try:
            states, sequence = reader.read_units(
                [("flights", "2013-01-01"), ("flights", "2013-01-02")]
            )
        finally:
            reader._connection = connection
        assert any("FROM materializations" in sql for sql in calls)
        assert (set(states["flights"]), sequence) == ({"2013-01-01"}, 1)
        assert reader.sequence() == 2


# --- snapshots ---


def test_snapshot_and_changes_without_a_snapshot(catalog: SQLiteCatalog) -> None:
    catalog.record(attempt(partition="2013-01-02", minute=0, consumed_seq=0))  # id 1
    catalog.record(attempt(asset="other", partition=None))  # id 2
    catalog.record(
        attempt(partition=None, minute=1, code_version="v2", consumed_seq=2, deps_version="d2")
    )  # 3
    catalog.record(attempt(partition="2013-01-02", status="failed", minute=2))  # id 4

    payload, through, changes = catalog.snapshot_and_changes("flights", "layout-1")

    assert (payload, through) == (None, 0)
    finished = [
        (at(minute) + timedelta(seconds=30)).isoformat(timespec="microseconds") for minute in (0, 1)
    ]
    assert changes == [
        (None, "materialized", True, "v2", 3, 2, finished[1], 3, "d2"),
        ("2013-01-02", "failed", True, "v1", 1, 0, finished[0], 4, None),
    ]
    assert catalog.snapshot_and_changes("nothing", "layout-1") == (None, 0, [])


def test_snapshot_and_changes_of_a_never_published_unit(catalog: SQLiteCatalog) -> None:
    catalog.record(attempt(status="interrupted", code_version=None))

    _, _, changes = catalog.snapshot_and_changes("flights", "layout-1")

    assert changes == [("2013-01-01", "interrupted", False, None, 0, 0, None, 1, None)]


def test_snapshot_in_the_same_layout_returns_only_newer_rows(catalog: SQLiteCatalog) -> None:
    catalog.record_many([attempt(partition=f"2013-01-0{day}") for day in (1, 2, 3)])
    catalog.save_snapshot("flights", "layout-1", 2, b"\x00snapshot\xff")
    catalog.record(attempt(partition="2013-01-01", minute=5))  # id 4

    payload, through, changes = catalog.snapshot_and_changes("flights", "layout-1")

    assert (payload, through) == (b"\x00snapshot\xff", 2)
    assert [(change[0], change[7]) for change in changes] == [("2013-01-03", 3), ("2013-01-01", 4)]


def test_snapshot_in_another_layout_is_ignored(catalog: SQLiteCatalog) -> None:
    catalog.record_many([attempt(partition=f"2013-01-0{day}") for day in (1, 2)])
    catalog.save_snapshot("flights", "layout-1", 2, b"old")

    payload, through, changes = catalog.snapshot_and_changes("flights", "layout-2")

    assert (payload, through) == (None, 0)
    assert [change[0] for change in changes] == ["2013-01-01", "2013-01-02"]


def test_save_snapshot_never_goes_back(catalog: SQLiteCatalog) -> None:
    catalog.save_snapshot("flights", "layout-1", 5, b"five")
    catalog.save_snapshot("flights", "layout-1", 3, b"three")  # a slower concurrent saver
    assert catalog.snapshot_and_changes("flights", "layout-1")[:2] == (b"five", 5)

    catalog.save_snapshot("flights", "layout-1", 7, b"seven")
    assert catalog.snapshot_and_changes("flights", "layout-1")[:2] == (b"seven", 7)

    catalog.save_snapshot("flights", "layout-2", 1, b"new layout")
    assert catalog.snapshot_and_changes("flights", "layout-2")[:2] == (b"new layout", 1)
    assert catalog.snapshot_and_changes("flights", "layout-1")[:2] == (None, 0)
    assert catalog.snapshot_and_changes("airports", "layout-2")[:2] == (None, 0)


# --- history ---


def test_history_is_newest_first_and_filters(catalog: SQLiteCatalog) -> None:
    catalog.record(attempt(partition="2013-01-01", minute=0))
    catalog.record(attempt(partition="2013-01-02", minute=1))
    catalog.record(attempt(partition="2013-01-01", minute=2, status="failed"))
    catalog.record(attempt(asset="airports", partition=None, minute=3))

    everything = catalog.history()
    assert [(r.asset, r.partition, r.started) for r in everything] == [
        ("airports", None, at(3)),
        ("flights", "2013-01-01", at(2)),
        ("flights", "2013-01-02", at(1)),
        ("flights", "2013-01-01", at(0)),
    ]
    assert everything[1] == attempt(partition="2013-01-01", minute=2, status="failed")

    assert [r.started for r in catalog.history("flights")] == [at(2), at(1), at(0)]
    assert [r.started for r in catalog.history("flights", "2013-01-01")] == [at(2), at(0)]
    assert [r.started for r in catalog.history("flights", limit=1)] == [at(2)]
    assert [r.asset for r in catalog.history("airports")] == ["airports"]
    assert catalog.history("nothing") == []


def test_history_keeps_every_field(catalog: SQLiteCatalog) -> None:
    record = attempt(
        inputs=(ConsumedInput("raw", None, "x"),),
        watermark="2013-01-01T05:00:00",
        attempts=2,
        bytes=1234,
    )
    catalog.record(record)
    assert catalog.history() == [record]


# --- runs ---


def test_runs_with_counts_and_limit(catalog: SQLiteCatalog) -> None:
    first = catalog.start_run("materialize", at(0))
    second = catalog.start_run("materialize flights", at(10))
    third = catalog.start_run("backfill", at(20))
    assert first.startswith("20130101T000000-")
    assert len({first, second, third}) == 3
    assert sorted([third, first, second]) == [first, second, third]

    counts = {"materialized": 3, "up_to_date": 5, "failed": 1, "skipped": 2}
    catalog.finish_run(first, at(5), "failed", counts)

    runs = catalog.runs()
    assert [run.run_id for run in runs] == [third, second, first]
    assert runs[2].status == "failed"
    assert runs[2].counts == counts
    assert runs[2].finished == at(5)
    assert runs[2].pid == os.getpid()
    assert runs[2].command == "materialize"
    assert runs[0].status == "running"
    assert runs[0].finished is None
    assert runs[0].counts == {}

    assert [run.run_id for run in catalog.runs(limit=2)] == [third, second]
    assert catalog.get_run(first) == runs[2]
    assert catalog.get_run("no-such-run") is None


def test_finish_unknown_run_raises(catalog: SQLiteCatalog) -> None:
    with pytest.raises(CatalogError, match="no such run"):
        catalog.finish_run("no-such-run", at(1), "succeeded", {})


def test_mark_interrupted_runs(catalog: SQLiteCatalog) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead_run = catalog.start_run("materialize", at(0))
    live_run = catalog.start_run("materialize", at(1))
    finished_run = catalog.start_run("materialize", at(2))
    catalog.finish_run(finished_run, at(3), "succeeded", {"materialized": 1})
    # Pretend the first run belonged to the child process, which has exited.
    connection = sqlite3.connect(catalog.path)
    with connection:
        connection.execute("UPDATE runs SET pid = ? WHERE run_id = ?", (child.pid, dead_run))
    connection.close()

    assert catalog.mark_interrupted_runs(at(10)) == [dead_run]

    interrupted = catalog.get_run(dead_run)
    assert interrupted is not None
    assert (interrupted.status, interrupted.finished) == ("interrupted", at(10))
    assert catalog.get_run(live_run).status == "running"  # type: ignore[union-attr]
    assert catalog.get_run(finished_run).status == "succeeded"  # type: ignore[union-attr]
    assert catalog.mark_interrupted_runs(at(11)) == []


# --- concurrency ---


def test_reader_is_not_blocked_by_an_open_write_transaction(catalog_path: Path) -> None:
    with SQLiteCatalog(catalog_path) as writer, SQLiteCatalog(catalog_path) as reader:
        writer.record(attempt(partition="2013-01-01"))
        connection = writer._connection
        assert connection is not None
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(
                "INSERT INTO partition_states (asset, partition, last_status, last_attempt_at)"
                " VALUES (?, ?, ?, ?)",
                ("flights", "2013-01-02", "failed", at(1).isoformat()),
            )
            # The reader sees the last committed state, at once.
            assert set(reader.states("flights")) == {"2013-01-01"}
            assert set(reader.all_states()["flights"]) == {"2013-01-01"}
        finally:
            connection.execute("COMMIT")
        assert set(reader.states("flights")) == {"2013-01-01", "2013-01-02"}


def test_a_schema_2_catalog_is_migrated_keeping_its_leases(catalog_path: Path) -> None:
    catalog_path.parent.mkdir(parents=True)
    with sqlite3.connect(catalog_path) as connection:
        for statement in [step for steps in _MIGRATIONS[:2] for step in steps]:
            assert isinstance(statement, str)
            connection.execute(statement)
        connection.execute("INSERT INTO leases VALUES ('a', 'p', 'run-1', 1, '2024-01-01')")
    SQLiteCatalog(catalog_path).close()
    with sqlite3.connect(catalog_path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        rows = connection.execute("SELECT asset, run_id, host FROM leases").fetchall()
    assert rows == [("a", "run-1", "")]
