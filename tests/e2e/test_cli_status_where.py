"""`status` and `freshness` restricted by `--where DIMENSION=VALUE[,VALUE...]`, and the
bounded list of partitions that need work in `status --json`."""

from __future__ import annotations

ASSETS = """
import pandas as pd
from partita import (
    DailyPartitions, FreshnessPolicy, HourlyPartitions, MultiPartitions, StaticPartitions,
    asset,
)

DAYS = DailyPartitions(start="2024-01-01")
SALES = MultiPartitions(date=DAYS, region=StaticPartitions(["eu", "us", "apac"]))


@asset(partitions=SALES, freshness=FreshnessPolicy(max_lag="1h"))
def sales(context):
    return pd.DataFrame({"place": [context.partition_keys["region"]]})


@asset(partitions=DAYS)
def daily(sales):
    return pd.DataFrame({"rows": [len(sales)]})


@asset(partitions=HourlyPartitions(start="2024-01-01"))
def readings():
    return pd.DataFrame({"n": [1]})
"""
NOW = "2024-01-04T00:00:00+00:00"


def test_status_and_freshness_where_a_dimension_has_values(project) -> None:
    project.write("assets/sales.py", ASSETS)
    project.cli("materialize", "sales", "--where", "region=eu,us", "--now", NOW, check=0)
    status = project.cli("status", "sales", "--where", "region=eu", "--json", "--now", NOW)
    (sales,) = status.json()["assets"]
    assert (sales["fresh"], sales["missing"]) == (3, 0)
    assert {r["group"] for r in sales["ranges"]} == {"region=eu"}
    apac = project.cli("status", "sales", "--where", "region=apac,us", "--now", NOW).stdout
    assert "2024-01-01|apac: missing" in apac
    table = project.cli("status", "sales", "daily", "--where", "region=us", "--json", "--now", NOW)
    by_asset = {a["asset"]: a for a in table.json()["assets"]}
    assert (by_asset["sales"]["fresh"], by_asset["sales"]["missing"]) == (3, 0)
    assert by_asset["daily"]["missing"] == 3  # no region: every partition

    fresh = project.cli("freshness", "sales", "--where", "region=eu,us", "--json", "--now", NOW)
    assert fresh.exit_code == 0
    assert fresh.json()["assets"][0]["verdict"] == "fresh"
    behind = project.cli("freshness", "sales", "--json", "--now", NOW)
    assert behind.exit_code == 1
    assert behind.json()["assets"][0]["reason"] == "missing: 2024-01-02|apac"  # due by now

    unknown = project.cli("status", "sales", "--where", "colour=red", "--now", NOW)
    assert unknown.exit_code == 2
    assert "no selected asset has a dimension 'colour'" in unknown.stderr
    bad_value = project.cli("freshness", "sales", "--where", "region=mars", "--now", NOW)
    assert bad_value.exit_code == 2
    assert "--where region=mars names a value its dimension 'region' lacks" in bad_value.stderr


def test_status_json_lists_at_most_a_thousand_partitions_per_asset(project) -> None:
    project.write("assets/sales.py", ASSETS)
    status = project.cli("status", "readings", "--json", "--now", "2024-03-01T00:00:00+00:00")
    (readings,) = status.json()["assets"]
    assert readings["missing"] == 60 * 24
    assert len(readings["partitions"]) == 1000
    assert readings["partitions"][0] == {
        "partition": "2024-01-01T00",
        "state": "missing",
        "reason": "missing",
    }
    assert readings["ranges"] == [
        {
            "first": "2024-01-01T00",
            "last": "2024-02-29T23",
            "count": 60 * 24,
            "state": "missing",
        }
    ]
