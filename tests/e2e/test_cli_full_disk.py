"""A full disk during a run: the first error wins (issue 17 point 7).

A real full file system needs root, so the failure is injected at the catalog boundary:
catalog writes raise the error the catalog makes of SQLite's `database or disk is full`.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from partita.catalog.sqlite import SQLiteCatalog
from partita.cli.main import cli

NOW = "2024-01-04"
PIPELINE = """
import pandas as pd
from partita import DailyPartitions, asset


@asset(partitions=DailyPartitions(start="2024-01-01"))
def events(context):
    return pd.DataFrame({"day": [context.partition_key], "n": [1]})
"""


def disk_full(catalog: SQLiteCatalog, action: str) -> Exception:
    """The error the catalog raises when SQLite finds the disk full while doing `action`."""
    return catalog._error(action, sqlite3.OperationalError("database or disk is full"))


@pytest.fixture
def full_after_first_unit(monkeypatch):
    """The disk fills up after the first unit is recorded: recording the second unit fails,
    and so do the cleanup writes (releasing leases); `finish_run` is left to the test."""
    record = SQLiteCatalog.record
    recorded = []

    def record_until_full(self, materialization):
        if recorded:
            raise disk_full(self, f"record {materialization.asset} {materialization.partition}")
        recorded.append(materialization)
        record(self, materialization)

    def release_leases(self, run_id):
        raise disk_full(self, f"release the leases of run {run_id}")

    monkeypatch.setattr(SQLiteCatalog, "record", record_until_full)
    monkeypatch.setattr(SQLiteCatalog, "release_leases", release_leases)
    return monkeypatch


def materialize(project) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["--project", str(project.root), "materialize", "--now", NOW, "--json"]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def test_the_first_error_wins_exit_1_and_the_report_is_printed(
    project, full_after_first_unit
) -> None:
    project.write("assets/events.py", PIPELINE)
    exit_code, stdout, stderr = materialize(project)
    assert exit_code == 1
    report = json.loads(stdout)
    assert report["status"] == "failed"
    assert [(r["partition"], r["status"]) for r in report["results"]] == [
        ("2024-01-01", "materialized")
    ]
    (error,) = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert "record events 2024-01-02" in error
    assert "is full" in error and "free space" in error
    assert "release the leases" not in error  # the cleanup's error did not replace it
    full_after_first_unit.undo()
    runs = project.load().runs()
    assert [(run.run_id, run.status) for run in runs] == [(report["run_id"], "failed")]


def test_a_run_the_catalog_cannot_finish_still_reports_its_first_error(
    project, full_after_first_unit
) -> None:
    def finish_run(self, run_id, *arguments):
        raise disk_full(self, f"record the end of run {run_id}")

    full_after_first_unit.setattr(SQLiteCatalog, "finish_run", finish_run)
    project.write("assets/events.py", PIPELINE)
    exit_code, stdout, stderr = materialize(project)
    assert exit_code == 1
    assert json.loads(stdout)["status"] == "failed"
    (error,) = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert "record events 2024-01-02" in error and "is full" in error
