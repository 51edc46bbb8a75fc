"""The session: one catalog handle, requests in, and read paths that never write."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from conftest import lease_as_a_dead_process

from partita.app.requests import PlanRequest, RunRequest, partition_range
from partita.app.session import Session, open_session
from partita.errors import UsageError

NOW = datetime(2024, 1, 4, tzinfo=UTC)
DAYS = ["2024-01-01", "2024-01-02", "2024-01-03"]

PIPELINE = """
import pandas as pd
from partita import DailyPartitions, asset

DAILY = DailyPartitions(start="2024-01-01")


@asset(partitions=DAILY)
def events(context):
    return pd.DataFrame({"day": [context.partition_key] * 2, "n": [1, 2]})


@asset(partitions=DAILY)
def tally(events):
    return pd.DataFrame({"total": [int(events["n"].sum())]})
"""


def catalog_rows(session: Session) -> tuple[list, ...]:
    """Everything a write would change: history, leases and runs."""
    connection = sqlite3.connect(session.warehouse / ".partita" / "catalog.db")
    try:
        return tuple(
            connection.execute(query).fetchall()
            for query in (
                "SELECT * FROM materializations ORDER BY id",
                "SELECT * FROM leases ORDER BY asset, partition",
                "SELECT * FROM runs ORDER BY run_id",
            )
        )
    finally:
        connection.close()


@pytest.fixture
def session(project):
    project.write("assets/pipeline.py", PIPELINE)
    with open_session(project.root) as opened:
        yield opened


def leave_a_dead_lease(session: Session, asset: str, partition: str) -> None:
    lease_as_a_dead_process(session.warehouse, asset, partition)


def test_a_run_request_materializes_and_a_plan_request_then_plans_nothing(session) -> None:
    report = session.run(RunRequest(selection=("events",), now=NOW))
    assert [(r.asset, r.partition, r.status) for r in report.results] == [
        ("events", day, "materialized") for day in DAYS
    ]
    plan = session.plan(PlanRequest(selection=("events+",), now=NOW))
    assert [(u.asset, u.partition, str(u.reason)) for u in plan.to_run] == [
        ("tally", day, "missing") for day in DAYS
    ]
    assert session.plan(PlanRequest(selection=("events",), now=NOW)).to_run == []


def test_the_session_keeps_one_catalog_handle_until_closed(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    session = open_session(project.root)
    with session:
        catalog = session.catalog
        session.run(RunRequest(now=NOW))
        session.status(now=NOW)
        assert session.catalog is catalog
    assert session._catalog is None


def test_read_paths_do_not_write_but_count_a_dead_runs_units_as_interrupted(session) -> None:
    session.run(RunRequest(now=NOW))
    leave_a_dead_lease(session, "events", "2024-01-02")
    before = catalog_rows(session)

    plan = session.plan(PlanRequest(now=NOW))
    statuses = {s.asset: s for s in session.status(now=NOW)}
    states = session.states()
    session.freshness(now=NOW, include_all=True)
    session.watermarks(now=NOW)

    assert catalog_rows(session) == before  # nothing recorded, the lease still there
    # As the next run will record it: the unit's last attempt was interrupted.
    assert [(u.asset, u.partition) for u in plan.to_run] == [
        ("events", "2024-01-02"),
        ("tally", "2024-01-02"),  # reads it
    ]
    assert statuses["events"].count("failed") == 1
    assert states["events"]["2024-01-02"].last_status == "interrupted"
    assert states["events"]["2024-01-02"].data_version is not None  # published data kept

    report = session.run(RunRequest(selection=("events",), now=NOW))
    ran = [(r.partition, r.status) for r in report.results if r.status != "up_to_date"]
    assert ran == [("2024-01-02", "materialized")]
    assert catalog_rows(session)[1] == []  # the dead lease is gone


def test_an_unknown_order_is_a_usage_error(session) -> None:
    with pytest.raises(UsageError, match="order must be one of oldest-first, newest-first"):
        session.run(RunRequest(now=NOW, order="random"))


def test_partition_range_of_a_key_a_pair_and_none() -> None:
    assert (partition_range("2024-01-02").first, partition_range("2024-01-02").last) == (
        "2024-01-02",
        "2024-01-02",
    )
    pair = partition_range(("2024-01-01", "2024-01-03"))
    assert (pair.first, pair.last) == ("2024-01-01", "2024-01-03")
    assert (partition_range(None).first, partition_range(None).last) == (None, None)


def test_the_public_api_runs_with_a_custom_listener(project) -> None:
    """The README's example: a session, a run request and a listener, from `partita`."""
    from partita import RunListener, RunRequest, open_session

    class CountRows(RunListener):
        def __init__(self) -> None:
            self.lines: list[str] = []

        def unit_finished(self, run_id, result, record) -> None:
            if record is not None:
                self.lines.append(f"{result.asset} {result.partition}: {record.rows} rows")

    project.write("assets/pipeline.py", PIPELINE)
    listener = CountRows()
    with open_session(project.root) as session:
        report = session.run(RunRequest(selection=("events",), now=NOW), [listener])
        assert [s.asset for s in session.status(now=NOW)] == ["events", "tally"]
        assert session.read("events", "2024-01-02").num_rows == 2
    assert report.status == "succeeded"
    assert listener.lines == [f"events {day}: 2 rows" for day in DAYS]
