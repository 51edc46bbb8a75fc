"""Schema 4: catalogs of earlier schemas gain sequence numbers backfilled from their history."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from partita.catalog import SQLiteCatalog
from partita.catalog.sqlite.schema import MIGRATIONS

STARTED = "2013-01-01T00:00:00.000000+00:00"


def create_old_catalog(path: Path, version: int) -> sqlite3.Connection:
    """An empty catalog of schema `version`, made by its own (frozen) SQL statements."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    for steps in MIGRATIONS[:version]:
        for statement in steps:
            assert isinstance(statement, str)
            connection.execute(statement)
    return connection


def add_attempt(
    connection: sqlite3.Connection,
    asset: str,
    partition: str,
    status: str,
    data_version: str | None = None,
    inputs: list[list[str | None]] | None = None,
) -> int:
    """Append one history row (as schema 1-3 wrote it) and return its id."""
    cursor = connection.execute(
        "INSERT INTO materializations (asset, partition, run_id, status, started, finished,"
        " attempts, data_version, inputs) VALUES (?, ?, 'run-1', ?, ?, ?, 1, ?, ?)",
        (asset, partition, status, STARTED, STARTED, data_version, json.dumps(inputs or [])),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def add_state(
    connection: sqlite3.Connection,
    asset: str,
    partition: str,
    last_status: str,
    data_version: str | None = None,
    inputs: list[list[str | None]] | None = None,
) -> None:
    connection.execute(
        "INSERT INTO partition_states (asset, partition, last_status, data_version, inputs,"
        " materialized_at, last_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            asset,
            partition,
            last_status,
            data_version,
            json.dumps(inputs or []),
            None if data_version is None else STARTED,
            STARTED,
        ),
    )


def sequences(catalog: SQLiteCatalog, asset: str, partition: str | None) -> tuple[int, int, int]:
    state = catalog.states(asset)[partition]
    return (state.seq, state.published_seq, state.consumed_seq)


@pytest.mark.parametrize("version", [1, 2, 3])
def test_migration_backfills_sequences_from_history(tmp_path: Path, version: int) -> None:
    path = tmp_path / "catalog.db"
    connection = create_old_catalog(path, version)
    ids: dict[str, int] = {}
    # raw (unpartitioned) publishes "a", which report reads; then "b": report is stale.
    ids["raw a"] = add_attempt(connection, "raw", "", "materialized", "a")
    # clean p1 publishes x, then y, then x twice (an identical rebuild), then fails.
    ids["clean x"] = add_attempt(connection, "clean", "p1", "materialized", "x")
    ids["clean y"] = add_attempt(connection, "clean", "p1", "materialized", "y")
    ids["clean x again"] = add_attempt(connection, "clean", "p1", "materialized", "x")
    report_inputs: list[list[str | None]] = [["raw", None, "a"], ["clean", "p1", "x"]]
    ids["report"] = add_attempt(connection, "report", "p1", "materialized", "r", report_inputs)
    ids["raw b"] = add_attempt(connection, "raw", "", "materialized", "b")
    ids["clean x rebuilt"] = add_attempt(connection, "clean", "p1", "materialized", "x")
    ids["clean failed"] = add_attempt(connection, "clean", "p1", "failed")
    # summary read the current versions of everything it reads, then failed once.
    summary_inputs: list[list[str | None]] = [["raw", None, "b"], ["clean", "p1", "x"]]
    ids["summary"] = add_attempt(connection, "summary", "", "materialized", "s", summary_inputs)
    ids["summary failed"] = add_attempt(connection, "summary", "", "failed")
    # orphan read a partition that no longer has a state: stale.
    orphan_inputs: list[list[str | None]] = [["clean", "p9", "z"]]
    ids["orphan"] = add_attempt(connection, "orphan", "", "materialized", "o", orphan_inputs)
    ids["never"] = add_attempt(connection, "never", "p1", "interrupted")
    add_state(connection, "raw", "", "materialized", "b")
    add_state(connection, "clean", "p1", "failed", "x")
    add_state(connection, "report", "p1", "materialized", "r", report_inputs)
    add_state(connection, "summary", "", "failed", "s", summary_inputs)
    add_state(connection, "orphan", "", "materialized", "o", orphan_inputs)
    add_state(connection, "never", "p1", "interrupted")
    connection.close()

    with SQLiteCatalog(path) as catalog:
        assert sequences(catalog, "raw", None) == (ids["raw b"], ids["raw b"], ids["raw b"])
        assert sequences(catalog, "clean", "p1") == (
            ids["clean failed"],
            ids["clean x again"],
            ids["clean x rebuilt"],
        )
        assert sequences(catalog, "report", "p1") == (ids["report"], ids["report"], 0)
        assert sequences(catalog, "summary", None) == (
            ids["summary failed"],
            ids["summary"],
            ids["summary"],
        )
        assert sequences(catalog, "orphan", None) == (ids["orphan"], ids["orphan"], 0)
        assert sequences(catalog, "never", "p1") == (ids["never"], 0, 0)
        assert catalog.sequence() == ids["never"]

        # Planning by sequences agrees with comparing data versions: report alone is stale.
        assert ids["raw b"] > sequences(catalog, "report", "p1")[2]
        assert ids["clean x again"] <= sequences(catalog, "summary", None)[2]


def test_migrated_catalog_records_and_snapshots(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    connection = create_old_catalog(path, 3)
    first = add_attempt(connection, "raw", "", "materialized", "a")
    add_state(connection, "raw", "", "materialized", "a")
    connection.close()

    with SQLiteCatalog(path) as catalog:
        _, _, changes = catalog.snapshot_and_changes("raw", "layout-1")
        assert [(change[0], change[7]) for change in changes] == [(None, first)]
        catalog.save_snapshot("raw", "layout-1", first, b"payload")
        assert catalog.snapshot_and_changes("raw", "layout-1") == (b"payload", first, [])

    with sqlite3.connect(path) as connection:
        indexes = {row[1] for row in connection.execute("PRAGMA index_list(partition_states)")}
    assert "partition_states_by_seq" in indexes


def test_migrating_an_empty_catalog(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    create_old_catalog(path, 3).close()

    with SQLiteCatalog(path) as catalog:
        assert catalog.sequence() == 0
        assert catalog.all_states() == {}
        assert catalog.snapshot_and_changes("raw", "layout-1") == (None, 0, [])
