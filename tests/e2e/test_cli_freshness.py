"""The real `partita` command: freshness (table, JSON, exit codes, --all), watermarks,
auto (nothing to do, a missed week, --dry-run, idempotent) and materialize --workers."""

from __future__ import annotations

import pytest

NOW = "2024-01-06T00:00:00+00:00"  # 2024-01-01 .. 2024-01-05 are complete
DAYS = [f"2024-01-0{d}" for d in range(1, 6)]
STATUSES = ("materialized", "up_to_date", "failed", "skipped")
WEEK_LATER = "2024-01-13T00:00:00+00:00"  # 2024-01-06 .. 2024-01-12 are new
NEW_DAYS = [f"2024-01-{d:02d}" for d in range(6, 13)]

ASSETS = """
import pathlib

import numpy as np
import pandas as pd
from partita import DailyPartitions, FreshnessPolicy, asset

DAILY = DailyPartitions(start="2024-01-01")
FLAKY = pathlib.Path(__file__).parent / "flaky.txt"


@asset(partitions=DAILY, watermark="ts", freshness=FreshnessPolicy(max_lag="6h"))
def events(context):
    rng = np.random.default_rng(int(context.partition_key.replace("-", "")))
    start = context.partition_start
    return pd.DataFrame(
        {
            "ts": [start + pd.Timedelta(hours=h) for h in (1, 7, 13)],
            "value": rng.integers(0, 100, size=3).astype("int64"),
        }
    )


@asset(partitions=DAILY, freshness=FreshnessPolicy(max_lag="1d"))
def totals(events):
    return pd.DataFrame({"total": [int(events["value"].sum())]})


@asset(partitions=DAILY)
def notes(context):
    if FLAKY.exists() and FLAKY.read_text() == context.partition_key:
        raise RuntimeError("flaky source")
    return pd.DataFrame({"n": [len(context.partition_key)]})
"""

FRESHNESS_KEYS = {
    "asset",
    "verdict",
    "expected_partition",
    "latest_partition",
    "deadline",
    "lag_s",
    "reason",
}


@pytest.fixture
def demo(project):
    project.write("assets/demo.py", ASSETS)
    return project


@pytest.fixture
def built(demo):
    demo.cli("materialize", "--now", NOW, check=0)
    return demo


def counts(report: dict) -> dict[str, int]:
    return {status: report["counts"][status] for status in STATUSES}


def verdicts(result) -> dict[str, str]:
    return {a["asset"]: a["verdict"] for a in result.json()["assets"]}


def test_freshness_json_when_everything_is_fresh_exits_0(built) -> None:
    result = built.cli("freshness", "--now", "2024-01-06T03:00:00+00:00", "--json", check=0)
    data = result.json()
    assert data["now"] == "2024-01-06T03:00:00+00:00"
    assert [a["asset"] for a in data["assets"]] == ["events", "totals"]
    assert all(set(a) == FRESHNESS_KEYS for a in data["assets"])
    events, totals = data["assets"]
    assert events == {
        "asset": "events",
        "verdict": "fresh",
        "expected_partition": "2024-01-05",
        "latest_partition": "2024-01-05",
        "deadline": "2024-01-06T06:00:00+00:00",
        "lag_s": 3 * 3600,
        "reason": None,
    }
    assert totals["verdict"] == "fresh"
    assert totals["deadline"] == "2024-01-07T00:00:00+00:00"


def test_freshness_pending_before_the_deadline_exits_0(built) -> None:
    result = built.cli("freshness", "--now", "2024-01-07T05:59:59+00:00", "--json", check=0)
    events = result.json()["assets"][0]
    assert events["verdict"] == "pending"
    assert events["expected_partition"] == "2024-01-06"
    assert events["latest_partition"] == "2024-01-05"
    assert events["deadline"] == "2024-01-07T06:00:00+00:00"
    assert events["reason"] == "missing"
    assert verdicts(result) == {"events": "pending", "totals": "pending"}


def test_freshness_overdue_after_the_deadline_exits_1(built) -> None:
    result = built.cli("freshness", "--now", "2024-01-07T06:00:01+00:00", "--json", check=1)
    events = result.json()["assets"][0]
    assert events["verdict"] == "overdue"
    assert events["reason"] == "missing"
    assert events["lag_s"] == 86400 + 6 * 3600 + 1
    # totals has a day of slack: still pending.
    assert verdicts(result) == {"events": "overdue", "totals": "pending"}


def test_freshness_table_names_each_verdict_and_reason(built) -> None:
    result = built.cli("freshness", "--now", "2024-01-07T06:00:01+00:00", check=1)
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "overdue" in lines["events"]
    assert "2024-01-06" in lines["events"] and "2024-01-05" in lines["events"]
    assert "missing" in lines["events"]
    assert "pending" in lines["totals"]
    assert "notes" not in lines
    fresh = built.cli("freshness", "--now", "2024-01-06T01:00:00+00:00", check=0)
    assert "fresh" in fresh.stdout and "overdue" not in fresh.stdout


def test_freshness_all_lists_assets_without_a_policy(built) -> None:
    result = built.cli("freshness", "--now", "2024-01-06T01:00:00+00:00", "--all", "--json")
    assert result.exit_code == 0
    assert verdicts(result) == {"events": "fresh", "notes": "no policy", "totals": "fresh"}
    notes = next(a for a in result.json()["assets"] if a["asset"] == "notes")
    assert notes["latest_partition"] == "2024-01-05"
    table = built.cli("freshness", "notes", "--now", "2024-01-06T01:00:00+00:00", check=0)
    assert "no policy" not in table.stdout
    assert "--all" in table.stdout


def test_freshness_of_a_never_materialized_project_is_overdue(demo) -> None:
    result = demo.cli("freshness", "--now", NOW, "--json", check=1)
    assert verdicts(result) == {"events": "overdue", "totals": "overdue"}


def test_freshness_selection_limits_the_report(built) -> None:
    result = built.cli("freshness", "totals", "--now", "2024-01-07T06:00:01+00:00", "--json")
    assert result.exit_code == 0  # events is overdue, but it is not selected
    assert verdicts(result) == {"totals": "pending"}


def test_watermarks_json(built) -> None:
    data = built.cli("watermarks", "--now", NOW, "--json", check=0).json()
    assert data["assets"] == [
        {
            "asset": "events",
            "high_water": "2024-01-05T13:00:00+00:00",
            "latest_partition": "2024-01-05",
            "complete_through": "2024-01-05",
        },
        {
            "asset": "notes",
            "high_water": None,
            "latest_partition": "2024-01-05",
            "complete_through": "2024-01-05",
        },
        {
            "asset": "totals",
            "high_water": None,
            "latest_partition": "2024-01-05",
            "complete_through": "2024-01-05",
        },
    ]


def test_watermarks_with_a_gap_and_a_later_partition(demo) -> None:
    demo.cli("materialize", "events", "--now", NOW, "--from", "2024-01-01", "--to", "2024-01-02")
    demo.cli("materialize", "events", "--now", NOW, "--partition", "2024-01-04", check=0)
    data = demo.cli("watermarks", "events", "--now", NOW, "--json", check=0).json()
    assert data["assets"] == [
        {
            "asset": "events",
            "high_water": "2024-01-04T13:00:00+00:00",
            "latest_partition": "2024-01-04",
            "complete_through": "2024-01-02",
        }
    ]
    table = demo.cli("watermarks", "--now", NOW, check=0).stdout
    assert "2024-01-04T13:00:00+00:00" in table


def test_auto_with_nothing_to_do_says_so(built) -> None:
    result = built.cli("auto", "--now", NOW, check=0)
    assert "Nothing to do" in result.stdout
    assert "materialized" not in result.stdout


def test_auto_catches_up_a_missed_week_in_one_call(built) -> None:
    report = built.cli("auto", "--now", WEEK_LATER, "--json", check=0).json()
    ran = {(r["asset"], r["partition"]) for r in report["results"] if r["status"] == "materialized"}
    assert ran == {(asset, day) for asset in ("events", "totals", "notes") for day in NEW_DAYS}
    assert counts(report) == {"materialized": 21, "up_to_date": 15, "failed": 0, "skipped": 0}
    after = built.cli("freshness", "--now", WEEK_LATER, "--json", check=0)
    assert verdicts(after) == {"events": "fresh", "totals": "fresh"}
    assert after.json()["assets"][0]["latest_partition"] == "2024-01-12"


def test_auto_dry_run_runs_nothing(built) -> None:
    dry = built.cli("auto", "--now", WEEK_LATER, "--dry-run", "--json", check=0).json()
    assert {(u["asset"], u["partition"]) for u in dry["units"]} == {
        (asset, day) for asset in ("events", "totals", "notes") for day in NEW_DAYS
    }
    assert {u["reason"] for u in dry["units"]} == {"missing"}
    assert built.cli("freshness", "--now", WEEK_LATER, "--json", check=1)
    runs = built.cli("runs", "--json", check=0).json()["runs"]
    assert len(runs) == 1  # only the first build
    table = built.cli("auto", "--now", WEEK_LATER, "--dry-run", check=0)
    assert "21" in table.stdout and "would run" in table.stdout


def test_auto_twice_is_idempotent(demo) -> None:
    first = demo.cli("auto", "--now", NOW, "--json", check=0).json()
    assert first["counts"]["materialized"] == 15
    second = demo.cli("auto", "--now", NOW, "--json", check=0).json()
    assert second["counts"]["materialized"] == 0
    assert second["counts"]["up_to_date"] == 15
    text = demo.cli("auto", "--now", NOW, check=0)
    assert "Nothing to do" in text.stdout


def test_auto_reruns_a_failed_partition(built) -> None:
    flaky = built.root / "assets" / "flaky.txt"
    flaky.write_text("2024-01-08")
    failing = built.cli("auto", "--now", WEEK_LATER, "--json", check=1).json()
    failed = [(r["asset"], r["partition"]) for r in failing["results"] if r["status"] == "failed"]
    assert failed == [("notes", "2024-01-08")]
    flaky.unlink()
    again = built.cli("auto", "--now", WEEK_LATER, "--json", check=0).json()
    ran = [(r["asset"], r["partition"]) for r in again["results"] if r["status"] == "materialized"]
    assert ran == [("notes", "2024-01-08")]


def comparable(report: dict) -> list[tuple]:
    return [(r["asset"], r["partition"], r["status"], r["rows"]) for r in report["results"]]


def test_materialize_with_two_workers_reports_what_one_worker_does(tmp_path) -> None:
    from conftest import TempProject

    reports = []
    for workers in ("1", "2"):
        root = tmp_path / f"workers-{workers}"
        (root / "assets").mkdir(parents=True)
        (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')
        project = TempProject(root)
        project.write("assets/demo.py", ASSETS)
        args = ("materialize", "--now", NOW, "--workers", workers, "--json")
        reports.append((project, project.cli(*args, check=0).json()))
    (one, sequential), (two, parallel) = reports
    assert comparable(parallel) == comparable(sequential)
    assert counts(parallel) == {"materialized": 15, "up_to_date": 0, "failed": 0, "skipped": 0}
    files = sorted(p.relative_to(one.warehouse) for p in one.warehouse.rglob("*.parquet"))
    assert len(files) == 15
    assert files == sorted(p.relative_to(two.warehouse) for p in two.warehouse.rglob("*.parquet"))
    for path in files:
        assert (two.warehouse / path).read_bytes() == (one.warehouse / path).read_bytes()


SNAPSHOT = """
import pandas as pd
from partita import FreshnessPolicy, asset


@asset(freshness=FreshnessPolicy(max_lag="1h"))
def snapshot():
    return pd.DataFrame({"x": [1, 2, 3]})
"""


def test_auto_rebuilds_an_unpartitioned_asset_older_than_max_lag(project) -> None:
    # An unpartitioned asset's age is measured from when it was really materialized,
    # so `now` here is relative to the wall clock, with wide margins either side.
    from datetime import UTC, datetime, timedelta

    project.write("assets/snap.py", SNAPSHOT)
    project.cli("materialize", check=0)
    soon = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    assert verdicts(project.cli("freshness", "--now", soon, "--json", check=0)) == {
        "snapshot": "fresh"
    }
    overdue = project.cli("freshness", "--now", later, "--json", check=1).json()["assets"][0]
    assert overdue["verdict"] == "overdue"
    assert overdue["reason"] == "older than max_lag"
    assert "Nothing to do" in project.cli("auto", "--now", soon, check=0).stdout
    report = project.cli("auto", "--now", later, "--json", check=0).json()
    assert [(r["asset"], r["status"], r["reason"]) for r in report["results"]] == [
        ("snapshot", "materialized", "overdue: older than max_lag")
    ]
    # Rebuilt: its age (and deadline) starts again from the rebuild.
    rebuilt = project.cli("freshness", "--now", later, "--json").json()["assets"][0]
    assert rebuilt["deadline"] > overdue["deadline"]
    assert rebuilt["lag_s"] < overdue["lag_s"]
