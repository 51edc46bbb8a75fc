"""`partita stats` on the real CLI: percentiles per asset, runs, JSON and Prometheus."""

from __future__ import annotations

NOW = "2024-01-05T00:00:00+00:00"

ASSETS = """
import pathlib

import pandas as pd
from partita import DailyPartitions, Retry, asset

HERE = pathlib.Path(__file__).parent


@asset(partitions=DailyPartitions(start="2024-01-01"), retry=Retry(max_attempts=2, initial_delay=0))
def orders(context):
    marker = HERE / f"tried-{context.partition_key}"
    if context.partition_key == "2024-01-02" and not marker.exists():
        marker.write_text("1")
        raise RuntimeError("flaky")
    return pd.DataFrame({"id": range(int(context.partition_key[-1]) * 10)})


@asset
def customers():
    return pd.DataFrame({"id": [1]})
"""


def test_stats_json_table_and_prometheus(project) -> None:
    project.write("assets/shop.py", ASSETS)
    run = project.cli("materialize", "--now", NOW, "--json", check=0).json()
    stats = project.cli("stats", "orders", "--json", check=0).json()
    (orders,) = stats["assets"]
    assert set(orders) == {
        "asset",
        "units",
        "success_rate",
        "retries",
        "duration_s",
        "rows",
        "trend",
    }
    assert (orders["asset"], orders["units"], orders["success_rate"]) == ("orders", 4, 1.0)
    assert orders["retries"] == 1
    assert orders["rows"] == {"p50": 25.0}  # 10, 20, 30, 40 rows
    durations = orders["duration_s"]
    assert 0 <= durations["p50"] <= durations["p95"] <= durations["p99"]
    assert [point["run_id"] for point in orders["trend"]] == [run["run_id"]]
    (listed,) = stats["runs"]
    assert (listed["run_id"], listed["units"], listed["failed"]) == (run["run_id"], 5, 0)

    later = project.cli("stats", "--since", "2999-01-01", "--json", check=0).json()
    assert {a["asset"]: a["units"] for a in later["assets"]} == {"orders": 0, "customers": 0}
    assert later["runs"] == []

    table = project.cli("stats", check=0).stdout
    assert "orders" in table and "p95 s" in table and run["run_id"] in table

    prometheus = project.cli("stats", "--format", "prometheus", check=0).stdout
    assert 'partita_asset_units_total{asset="orders"} 4' in prometheus
    assert 'partita_asset_duration_seconds{asset="orders",quantile="0.99"}' in prometheus
    assert 'partita_runs_total{status="succeeded"} 1' in prometheus


def test_stats_rejects_a_bad_since(project) -> None:
    project.write("assets/shop.py", ASSETS)
    result = project.cli("stats", "--since", "yesterday", check=2)
    assert "'yesterday' is not an ISO date or time" in result.stderr
