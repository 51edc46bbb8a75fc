"""The real `partita` command on temporary projects: materialize, backfill, --plan,
status, runs and show; JSON shapes and exit codes; the warehouse read by other tools."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

NOW = "2024-01-06T00:00:00+00:00"  # daily partitions 2024-01-01 .. 2024-01-05 are complete
DAYS = [f"2024-01-0{d}" for d in range(1, 6)]

ASSETS = """
import pathlib

import numpy as np
import pandas as pd
from partita import AssetDep, DailyPartitions, MonthlyPartitions, asset

DAILY = DailyPartitions(start="2024-01-01")
HERE = pathlib.Path(__file__).parent


@asset(partitions=DAILY)
def flights(context):
    rng = np.random.default_rng(int(context.partition_key.replace("-", "")))
    return pd.DataFrame(
        {"carrier": ["AA", "UA", "DL"], "delay": rng.integers(0, 60, size=3).astype("int64")}
    )


@asset(partitions=DAILY, deps=[AssetDep("flights", offset=(-2, 0))])
def rolling(flights):
    if (HERE / "broken.txt").exists():
        raise RuntimeError("rolling is broken")
    return pd.DataFrame({"flights": [len(flights)], "delay": [int(flights["delay"].sum())]})


@asset(partitions=DAILY)
def weather(context):
    return pd.DataFrame({"temp": [20 + int(context.partition_key[-1])]})


@asset(partitions=MonthlyPartitions(start="2024-01-01"))
def monthly(rolling):
    return pd.DataFrame({"days": [len(rolling)]})
"""

RESULT_KEYS = {"asset", "partition", "status", "reason", "attempts", "rows", "duration_s", "error"}


@pytest.fixture
def demo(project):
    project.write("assets/demo.py", ASSETS)
    return project


def test_materialize_json_report_and_a_second_run(demo) -> None:
    first = demo.cli("materialize", "--now", NOW, "--json", check=0).json()
    assert isinstance(first["run_id"], str) and first["run_id"]
    results = first["results"]
    assert all(set(r) >= RESULT_KEYS for r in results)
    assert [(r["asset"], r["partition"]) for r in results] == [
        *[("flights", d) for d in DAYS],
        *[("rolling", d) for d in DAYS],
        *[("weather", d) for d in DAYS],
    ]  # January is not complete at NOW: no monthly partition yet
    assert {r["status"] for r in results} == {"materialized"}
    assert {r["reason"] for r in results} == {"missing"}
    assert {r["attempts"] for r in results} == {1}
    assert {r["error"] for r in results} == {None}
    assert {r["rows"] for r in results if r["asset"] == "flights"} == {3}
    assert all(isinstance(r["duration_s"], float | int) for r in results)

    second = demo.cli("materialize", "--now", NOW, "--json", check=0).json()
    assert second["run_id"] != first["run_id"]
    assert {r["status"] for r in second["results"]} == {"up_to_date"}
    assert second["counts"]["up_to_date"] == 15


def test_a_failed_unit_exits_1_and_the_rest_keeps_going(demo) -> None:
    (demo.root / "assets" / "broken.txt").write_text("yes")
    result = demo.cli("materialize", "--now", NOW, "--json", check=1)
    report = result.json()
    by_status = {}
    for r in report["results"]:
        by_status.setdefault(r["status"], set()).add(r["asset"])
    assert by_status == {"materialized": {"flights", "weather"}, "failed": {"rolling"}}
    failed = next(r for r in report["results"] if r["status"] == "failed")
    assert "rolling is broken" in failed["error"]
    assert "asset 'rolling'" in failed["error"]
    assert report["status"] == "failed"

    table = demo.cli("materialize", "--now", NOW, check=1)
    assert "rolling is broken" in table.stdout
    assert "failed" in table.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--partition", "2024-01-02", "--from", "2024-01-01"], "not both"),
        (["--partition", "2024-13-45"], "2024-13-45"),
        (["--partition", "not-a-day"], "not-a-day"),
        (["--from", "2024-01-04", "--to", "2024-01-02"], "is after"),
        (["--partition", "2024-01-09"], "not complete"),
    ],
)
def test_usage_errors_exit_2(demo, arguments, message) -> None:
    result = demo.cli("materialize", "flights", "--now", NOW, *arguments, check=2)
    assert message in result.stderr
    assert not (demo.warehouse / "flights").exists()


def test_a_malformed_now_exits_2(demo) -> None:
    result = demo.cli("materialize", "--now", "yesterday-ish", check=2)
    assert "--now" in result.stderr
    assert not (demo.warehouse / "flights").exists()


def test_plan_shows_what_the_next_run_does_and_runs_nothing(demo) -> None:
    demo.cli("materialize", "flights", "--partition", "2024-01-03", "--now", NOW, check=0)
    runs_before = demo.cli("runs", "--json", check=0).json()["runs"]

    plan = demo.cli("materialize", "+rolling", "--plan", "--json", "--now", NOW, check=0).json()
    assert plan["now"] == NOW
    units = {(u["asset"], u["partition"]): u["reason"] for u in plan["units"]}
    assert units == {
        **{("flights", d): "missing" for d in DAYS if d != "2024-01-03"},
        **{("rolling", d): "missing" for d in DAYS},
    }
    assert demo.cli("runs", "--json", check=0).json()["runs"] == runs_before
    assert not (demo.warehouse / "rolling").exists()

    text = demo.cli("materialize", "+rolling", "--plan", "--now", NOW, check=0).stdout
    assert "9 of 10 units would run" in text
    assert "missing" in text

    report = demo.cli("materialize", "+rolling", "--json", "--now", NOW, check=0).json()
    materialized = {
        (r["asset"], r["partition"]): r["reason"]
        for r in report["results"]
        if r["status"] == "materialized"
    }
    assert materialized == units

    again = demo.cli("materialize", "+rolling", "--plan", "--now", NOW, check=0).stdout
    assert "Nothing to do" in again


def test_plan_reasons_after_a_forced_upstream_change(demo) -> None:
    demo.cli("materialize", "--now", NOW, check=0)
    # rebuilding flights with different code changes its data: rolling reads it
    path = demo.root / "assets" / "demo.py"
    path.write_text(path.read_text().replace("rng.integers(0, 60", "rng.integers(0, 90"))
    plan = demo.cli("materialize", "--plan", "--json", "--now", NOW, check=0).json()
    reasons = {(u["asset"], u["partition"]): u["reason"] for u in plan["units"]}
    assert reasons == {
        **{("flights", d): "code changed" for d in DAYS},
        # the first pending partition in each window [d - 2, d] is named
        **{
            ("rolling", d): f"upstream stale: flights {DAYS[max(0, i - 2)]}"
            for i, d in enumerate(DAYS)
        },
    }
    forced = demo.cli(
        "materialize",
        "weather",
        "--partition",
        "2024-01-02",
        "--force",
        "--plan",
        "--json",
        "--now",
        NOW,
        check=0,
    ).json()
    assert forced["units"] == [{"asset": "weather", "partition": "2024-01-02", "reason": "forced"}]


def test_backfill_a_range_then_rerun_does_nothing(demo) -> None:
    arguments = ["backfill", "flights", "rolling", "--from", "2024-01-01", "--to", "2024-01-03"]
    first = demo.cli(*arguments, "--now", NOW, "--json", check=0).json()
    done = {(r["asset"], r["partition"]) for r in first["results"]}
    assert done == {(a, d) for a in ("flights", "rolling") for d in DAYS[:3]}
    assert {r["status"] for r in first["results"]} == {"materialized"}
    loaded = demo.load()
    assert loaded.read("rolling", "2024-01-01")["flights"].tolist() == [3]  # clipped window
    assert loaded.read("rolling", "2024-01-03")["flights"].tolist() == [9]
    assert not (demo.warehouse / "flights" / "date=2024-01-04").exists()

    again = demo.cli(*arguments, "--now", NOW, "--json", check=0).json()
    assert {r["status"] for r in again["results"]} == {"up_to_date"}
    assert len(again["results"]) == 6


def test_a_window_reading_an_unmaterialized_partition_fails_without_retry(demo) -> None:
    report = demo.cli(
        "backfill",
        "flights",
        "rolling",
        "--from",
        "2024-01-03",
        "--to",
        "2024-01-03",
        "--now",
        NOW,
        "--json",
        check=1,
    ).json()
    rolling = next(r for r in report["results"] if r["asset"] == "rolling")
    assert rolling["status"] == "failed"
    assert rolling["attempts"] == 1
    assert "'flights' partition 2024-01-01" in rolling["error"]
    assert "has not been materialized" in rolling["error"]


def test_backfill_after_a_failure_does_only_what_remains(demo) -> None:
    broken = demo.root / "assets" / "broken.txt"
    broken.write_text("yes")
    arguments = ["backfill", "+rolling", "--from", "2024-01-01", "--to", "2024-01-03"]
    demo.cli(*arguments, "--now", NOW, "--json", check=1)
    broken.unlink()
    plan = demo.cli(*arguments, "--plan", "--json", "--now", NOW, check=0).json()
    assert {(u["asset"], u["partition"]): u["reason"] for u in plan["units"]} == {
        ("rolling", d): "failed last time" for d in DAYS[:3]
    }
    report = demo.cli(*arguments, "--now", NOW, "--json", check=0).json()
    statuses = {(r["asset"], r["partition"]): r["status"] for r in report["results"]}
    assert statuses == {
        **{("flights", d): "up_to_date" for d in DAYS[:3]},
        **{("rolling", d): "materialized" for d in DAYS[:3]},
    }


def test_status_json(demo) -> None:
    demo.cli("materialize", "flights", "weather", "--now", NOW, check=0)
    (demo.root / "assets" / "broken.txt").write_text("yes")
    demo.cli("materialize", "rolling", "--partition", "2024-01-02", "--now", NOW, check=1)
    status = demo.cli("status", "--now", NOW, "--json", check=0).json()
    assets = {a["asset"]: a for a in status["assets"]}
    assert set(assets) == {"flights", "rolling", "weather", "monthly"}
    for entry in assets.values():
        assert set(entry) >= {"asset", "fresh", "stale", "missing", "failed", "partitions"}
        for partition in entry["partitions"]:
            assert set(partition) == {"partition", "state", "reason"}
    flights = assets["flights"]
    assert (flights["fresh"], flights["stale"], flights["missing"], flights["failed"]) == (
        5,
        0,
        0,
        0,
    )
    rolling = assets["rolling"]
    assert (rolling["fresh"], rolling["missing"], rolling["failed"]) == (0, 4, 1)
    states = {p["partition"]: (p["state"], p["reason"]) for p in rolling["partitions"]}
    assert states["2024-01-02"] == ("failed", "failed last time")
    assert states["2024-01-03"] == ("missing", "missing")
    assert assets["monthly"]["partitions"] == []
    # Only partitions that need work are listed one by one; ranges cover every partition.
    assert flights["partitions"] == []
    assert flights["ranges"] == [
        {"first": "2024-01-01", "last": "2024-01-05", "count": 5, "state": "fresh"}
    ]
    assert [(r["first"], r["last"], r["count"], r["state"]) for r in rolling["ranges"]] == [
        ("2024-01-01", "2024-01-01", 1, "missing"),
        ("2024-01-02", "2024-01-02", 1, "failed"),
        ("2024-01-03", "2024-01-05", 3, "missing"),
    ]

    only = demo.cli("status", "weather", "--now", NOW, "--json", check=0).json()
    assert [a["asset"] for a in only["assets"]] == ["weather"]
    table = demo.cli("status", "--now", NOW, check=0).stdout
    assert "2024-01-01: missing" in table  # rolling's first partition that is not fresh


def test_runs_json_lists_every_run_newest_first(demo) -> None:
    first = demo.cli("materialize", "weather", "--now", NOW, "--json", check=0).json()
    (demo.root / "assets" / "broken.txt").write_text("yes")
    second = demo.cli("materialize", "rolling", "--now", NOW, "--json", check=1).json()
    runs = demo.cli("runs", "--json", check=0).json()["runs"]
    assert [r["run_id"] for r in runs] == [second["run_id"], first["run_id"]]
    assert [r["status"] for r in runs] == ["failed", "succeeded"]
    assert runs[1]["counts"] == {"materialized": 5, "up_to_date": 0, "failed": 0, "skipped": 0}
    assert runs[0]["counts"]["failed"] == 5
    assert "materialize weather" in runs[1]["command"]
    for run in runs:
        assert set(run) >= {"run_id", "command", "started", "finished", "status", "counts"}
        assert run["finished"] is not None
    limited = demo.cli("runs", "--limit", "1", "--json", check=0).json()["runs"]
    assert [r["run_id"] for r in limited] == [second["run_id"]]


def test_show_prints_rows(demo) -> None:
    demo.cli("materialize", "weather", "--now", NOW, check=0)
    one = demo.cli("show", "weather", "--partition", "2024-01-03", check=0).stdout
    assert "weather 2024-01-03: 1 rows" in one
    assert "23" in one
    everything = demo.cli("show", "weather", "--limit", "2", check=0).stdout
    assert "5 rows, first 2" in everything
    assert "21" in everything and "22" in everything and "25" not in everything


def test_the_warehouse_is_readable_by_duckdb_and_pandas(demo) -> None:
    demo.cli("materialize", "flights", "--now", NOW, check=0)
    root = demo.warehouse / "flights"
    rows = duckdb.sql(
        f"SELECT CAST(date AS VARCHAR) AS date, carrier FROM read_parquet("
        f"'{root}/*/*.parquet', hive_partitioning=true) ORDER BY date, carrier"
    ).fetchall()
    assert [d for d, _ in rows] == [d for d in DAYS for _ in range(3)]
    assert {c for _, c in rows} == {"AA", "UA", "DL"}
    frame = pd.read_parquet(root)
    assert len(frame) == 15
    assert sorted(frame["date"].astype(str).unique()) == DAYS
    assert list(frame.columns)[:2] == ["carrier", "delay"]
    loaded = demo.load().read("flights")
    assert sorted(loaded["delay"].tolist()) == sorted(frame["delay"].tolist())
