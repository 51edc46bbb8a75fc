"""SQLiteCatalog beyond the contract suite: the file, its schema, its errors, its locking."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from partita.catalog import SQLiteCatalog
from partita.catalog.sqlite.schema import MIGRATIONS, SCHEMA_VERSION
from partita.errors import CatalogError

from ..contract.helpers import at, attempt


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / ".partita" / "catalog.db"


@pytest.fixture
def catalog(catalog_path: Path):
    with SQLiteCatalog(catalog_path) as opened:
        yield opened


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
                if "FROM sequence_counter" in sql:
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
        assert any("FROM sequence_counter" in sql for sql in calls)
        assert (set(states["flights"]), sequence) == ({"2013-01-01"}, 1)
        assert reader.sequence() == 2


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


def test_a_schema_2_catalog_is_migrated_keeping_its_leases(catalog_path: Path) -> None:
    catalog_path.parent.mkdir(parents=True)
    with sqlite3.connect(catalog_path) as connection:
        for statement in [step for steps in MIGRATIONS[:2] for step in steps]:
            assert isinstance(statement, str)
            connection.execute(statement)
        connection.execute("INSERT INTO leases VALUES ('a', 'p', 'run-1', 1, '2024-01-01')")
    SQLiteCatalog(catalog_path).close()
    with sqlite3.connect(catalog_path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        rows = connection.execute(
            "SELECT asset, run_id, host, process_start, boot_id FROM leases"
        ).fetchall()
    assert rows == [("a", "run-1", "", None, None)]


def test_the_sequence_counter_continues_from_the_history_of_a_schema_4_catalog(
    catalog_path: Path,
) -> None:
    catalog_path.parent.mkdir(parents=True)
    connection = sqlite3.connect(catalog_path, isolation_level=None)
    for steps in MIGRATIONS[:4]:
        for step in steps:
            if callable(step):
                step(connection)
            else:
                connection.execute(step)
    connection.execute(
        "INSERT INTO materializations (id, asset, partition, run_id, status, started, finished,"
        " attempts) VALUES (7, 'flights', 'p', 'run-1', 'failed', ?, ?, 1)",
        (at(0).isoformat(), at(0).isoformat()),
    )
    connection.execute("INSERT INTO check_results VALUES (7, 'not_null', 'error', 0, 'nulls')")
    connection.close()

    with SQLiteCatalog(catalog_path) as catalog:
        assert catalog.sequence() == 7
        # The history, rebuilt without AUTOINCREMENT, keeps its ids and its checks.
        assert [check.check.name for check in catalog.failed_checks()] == ["not_null"]
        catalog.record(attempt(partition="p"))
        assert catalog.state("flights", "p").seq == 8  # type: ignore[union-attr]
        assert catalog.failed_checks() == []
        assert [record.status for record in catalog.history("flights", "p")] == [
            "materialized",
            "failed",
        ]


def test_sequences_come_from_the_counter_not_the_history_ids(catalog: SQLiteCatalog) -> None:
    """A backend with concurrent writers cannot rely on ids growing in commit order: the
    sequence is the counter's, whatever id the history row got."""
    connection = catalog._connection
    assert connection is not None
    connection.execute("UPDATE sequence_counter SET value = 41")

    catalog.record(attempt())

    assert catalog.state("flights", "2013-01-01").seq == 42  # type: ignore[union-attr]
    assert catalog.sequence() == 42
    assert connection.execute("SELECT max(id) FROM materializations").fetchone() == (1,)
