"""A run whose lease was taken over never publishes (issue 17, points 1 and 3).

Just before the rename (Parquet) or the COMMIT (DuckDB), the process writing a unit checks
that the catalog still gives the unit's lease to its run; a worker also checks that its
coordinator is alive. A unit that lost its lease ends `locked`, writes nothing and records
nothing: the run holding the lease now records it.
"""

from __future__ import annotations

import pytest

from partita.execution import runner

from . import catalog_rows, parquet_files

STOLEN = """
import sqlite3
from pathlib import Path

import pyarrow as pa
from partita import DailyPartitions, {storage}, asset

CATALOG = Path(__file__).parent.parent / "warehouse" / ".partita" / "catalog.db"


@asset(partitions=DailyPartitions(start="2024-01-01"), storage={storage}())
def stolen(context):
    if context.partition_key == "2024-01-02":
        # Another run takes the lease over while this one computes.
        with sqlite3.connect(CATALOG, timeout=30) as connection:
            connection.execute(
                "UPDATE leases SET run_id = 'other-run', pid = 1 WHERE partition = ?",
                (context.partition_key,),
            )
    return pa.table({{"day": [int(context.partition_key[-2:])]}})
"""


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("storage", ["Parquet", "DuckDB"])
def test_a_unit_whose_lease_was_taken_over_does_not_publish(project, storage, workers) -> None:
    project.write("assets/stolen.py", STOLEN.format(storage=storage))

    report = project.cli(
        "materialize", "--now", "2024-01-04", "--workers", str(workers), "--json", check=0
    ).json()

    results = {r["partition"]: r for r in report["results"]}
    assert {key: r["status"] for key, r in results.items()} == {
        "2024-01-01": "materialized",
        "2024-01-02": "locked",
        "2024-01-03": "materialized",
    }
    assert "not published" in results["2024-01-02"]["reason"]
    assert "held by run other-run (pid 1)" in results["2024-01-02"]["reason"]
    recorded = catalog_rows(project.root, "SELECT partition, status FROM materializations")
    assert sorted(recorded) == [("2024-01-01", "materialized"), ("2024-01-03", "materialized")]
    stored = project.load().read("stolen", ("2024-01-01", "2024-01-03"))
    assert stored["day"].tolist() == [1, 3]
    if storage == "Parquet":
        assert sorted(parquet_files(project.warehouse, "stolen")) == [
            "date=2024-01-01/part-0.parquet",
            "date=2024-01-03/part-0.parquet",
        ]


BLOCKING = """
import os
import time
from pathlib import Path

import pyarrow as pa
from partita import DailyPartitions, asset, load_project

HERE = Path(__file__).parent


@asset(partitions=DailyPartitions(start="2024-01-01"))
def blocking(context):
    with open(HERE / "executions.log", "a") as log:
        log.write(f"{{context.run_id}}\\n")
    if os.environ.get("NESTED") != "1":
        # The heartbeat is held off (as by an asset holding the GIL) past the stale time,
        # then a second run tries to take the unit.
        time.sleep({stale} * 3)
        os.environ["NESTED"] = "1"
        try:
            second = load_project(HERE.parent).materialize(
                "blocking", context.partition_key, now=NOW, wait=False
            )
        finally:
            del os.environ["NESTED"]
        (HERE / "second.txt").write_text(second.results[0].status)
    return pa.table({{"day": [1]}})


NOW = __import__("datetime").datetime(2024, 1, 2, tzinfo=__import__("datetime").UTC)
"""


def test_a_live_run_whose_heartbeat_is_late_keeps_its_unit(project, monkeypatch) -> None:
    stale = 0.5
    monkeypatch.setattr(runner, "LEASE_STALE_AFTER_S", stale)
    monkeypatch.setattr(runner, "HEARTBEAT_EVERY_S", 3600.0)  # the heartbeat never comes
    project.write("assets/blocking.py", BLOCKING.format(stale=stale))
    from datetime import UTC, datetime

    report = project.load().materialize("blocking", now=datetime(2024, 1, 2, tzinfo=UTC))

    assert [r.status for r in report.results] == ["materialized"]
    assert (project.root / "assets" / "second.txt").read_text() == "locked"
    executions = (project.root / "assets" / "executions.log").read_text().split()
    assert executions == [report.run_id]  # the unit ran once
    recorded = catalog_rows(project.root, "SELECT run_id, status, error FROM materializations")
    assert recorded == [(report.run_id, "materialized", None)]  # no "died" record
