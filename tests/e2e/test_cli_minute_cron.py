"""Minute and cron partitions through the real CLI: materialize, hive folders, mappings."""

from __future__ import annotations

import duckdb

ASSETS = """
import pandas as pd
from partita import CronPartitions, DailyPartitions, MinutePartitions, asset

SLOTS = MinutePartitions(every=30, start="2024-01-05", timezone="UTC")
BUSINESS = CronPartitions("0 6 * * MON-FRI", start="2024-01-05T06", timezone="UTC")


@asset(partitions=SLOTS)
def readings(context):
    return pd.DataFrame({"minutes": [context.partition_duration.total_seconds() / 60]})


@asset(partitions=DailyPartitions(start="2024-01-05"))
def daily(readings):
    return pd.DataFrame({"slots": [len(readings)]})


@asset(partitions=BUSINESS)
def business_day(daily):
    return pd.DataFrame({"days": [len(daily)]})
"""


def test_minute_and_cron_assets_materialize_and_read_back(project) -> None:
    project.write("assets/grains.py", ASSETS)
    project.cli("materialize", "--now", "2024-01-09T07:00:00+00:00", check=0)
    loaded = project.load()
    assert loaded.read("readings", "2024-01-05T13:30")["minutes"].tolist() == [30.0]
    assert loaded.read("daily", "2024-01-06")["slots"].tolist() == [48]
    # Friday 06:00 to Monday 06:00 overlaps Friday, Saturday, Sunday and Monday
    assert loaded.read("business_day", "2024-01-05T06:00")["days"].tolist() == [4]
    readings = project.warehouse / "readings"
    assert (readings / "minute=2024-01-05T13%3A30" / "part-0.parquet").is_file()
    rows = duckdb.sql(
        f"SELECT minute FROM read_parquet('{readings}/*/*.parquet', hive_partitioning = true)"
        " ORDER BY minute LIMIT 2"
    ).fetchall()
    assert [minute for (minute,) in rows] == ["2024-01-05T00:00", "2024-01-05T00:30"]
    status = project.cli("status", "--json", "--now", "2024-01-09T07:00:00+00:00", check=0)
    counts = {a["asset"]: a["fresh"] for a in status.json()["assets"]}
    assert counts == {"readings": 4 * 48 + 14, "daily": 4, "business_day": 2}
