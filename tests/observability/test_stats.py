"""Run statistics: percentiles, per-asset and per-run figures, Prometheus text."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from partita.catalog.records import MaterializationRecord, RunRecord
from partita.observability.stats import build_statistics, percentile, to_prometheus

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@given(
    st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=50),
    st.sampled_from([0.0, 0.5, 0.95, 0.99, 1.0]),
)
def test_percentile_matches_numpy(values: list[float], fraction: float) -> None:
    found = percentile(values, fraction)
    assert found == pytest.approx(float(np.percentile(values, fraction * 100)), abs=1e-6)
    assert found is not None and min(values) <= found <= max(values)


def _record(run: str, partition: str, seconds: float, status="materialized", **fields):
    started = T0 + timedelta(hours=int(run[-1]))
    values = {"asset": "orders", "attempts": 1, "rows": 10, **fields}
    return MaterializationRecord(
        partition=partition,
        run_id=run,
        status=status,
        started=started,
        finished=started + timedelta(seconds=seconds),
        **values,
    )


def _run(run_id: str, status: str = "succeeded", seconds: float = 60) -> RunRecord:
    started = T0 + timedelta(hours=int(run_id[-1]))
    return RunRecord(
        run_id,
        "materialize",
        started,
        started + timedelta(seconds=seconds),
        status,
        {"materialized": 2},
        1,
    )


HISTORY = [
    _record("run-1", "a", 1.0, rows=100),
    _record("run-1", "b", 3.0, status="failed", attempts=3, rows=None),
    _record("run-2", "b", 2.0, attempts=2, rows=300),
    _record("run-2", "c", 4.0, rows=200),
    _record("run-2", "x", 9.0, asset="customers", rows=1),
]
RUNS = [_run("run-2", seconds=30), _run("run-1", "failed", 90)]


def test_per_asset_and_per_run_figures() -> None:
    statistics = build_statistics(HISTORY, RUNS, ["orders", "missing"])
    orders, missing = statistics.to_json()["assets"]
    assert orders["asset"] == "orders"
    assert (orders["units"], orders["success_rate"], orders["retries"]) == (4, 0.75, 3)
    assert orders["duration_s"] == {"p50": 2.5, "p95": 3.85, "p99": 3.97}
    assert orders["rows"] == {"p50": 200.0}
    assert [(p["run_id"], p["units"], p["duration_s_p50"]) for p in orders["trend"]] == [
        ("run-1", 2, 2.0),
        ("run-2", 2, 3.0),
    ]
    assert missing == {
        "asset": "missing",
        "units": 0,
        "success_rate": None,
        "retries": 0,
        "duration_s": {"p50": None, "p95": None, "p99": None},
        "rows": {"p50": None},
        "trend": [],
    }
    runs = statistics.to_json()["runs"]
    assert [(r["run_id"], r["duration_s"], r["units"], r["failed"]) for r in runs] == [
        ("run-2", 30.0, 3, 0),
        ("run-1", 90.0, 2, 1),
    ]


def test_since_keeps_only_later_attempts_and_runs() -> None:
    statistics = build_statistics(HISTORY, RUNS, ["orders"], since=T0 + timedelta(hours=2))
    (orders,) = statistics.assets
    assert (orders.units, orders.retries) == (2, 1)
    assert [r.run.run_id for r in statistics.runs] == ["run-2"]


_SAMPLE = re.compile(
    r'^[a-z_0-9]+(\{[a-z_]+="(?:[^"\\]|\\.)*"(,[a-z_]+="(?:[^"\\]|\\.)*")*\})? \S+$'
)


def test_prometheus_exposition() -> None:
    text = to_prometheus(build_statistics(HISTORY, RUNS, ["orders", 'we"ird\\name']))
    lines = text.splitlines()
    assert all(line.startswith("# ") or _SAMPLE.match(line) for line in lines), text
    assert 'partita_asset_duration_seconds{asset="orders",quantile="0.5"} 2.5' in lines
    assert 'partita_asset_duration_seconds_count{asset="orders"} 4' in lines
    assert 'partita_asset_success_ratio{asset="orders"} 0.75' in lines
    assert 'partita_asset_units_total{asset="we\\"ird\\\\name"} 0' in lines
    assert 'partita_runs_total{status="failed"} 1' in lines
    assert "partita_last_run_duration_seconds 30.0" in lines
    assert "# TYPE partita_asset_duration_seconds summary" in lines
