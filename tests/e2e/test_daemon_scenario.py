"""The issue's scenario end to end, on a temporary project: a running `partita daemon`
materializes a newly due partition of an `on_cron` asset, and after an observable source's
file changes rebuilds exactly the affected downstream partitions, once."""

from __future__ import annotations

import os
import signal
import subprocess

from conftest import PARTITA
from processes import kill_all, wait_for

from partita.catalog import open_catalog

SCENARIO = """
from pathlib import Path

import pandas as pd
from partita import AssetDep, DailyPartitions, asset, eager, observable_source, on_cron

LANDING = Path(__file__).parent.parent / "landing"
DAYS = DailyPartitions(start="2024-01-01", end="2024-01-05")


@asset(partitions=DailyPartitions(start="2024-01-01"), automation=on_cron("0 6 * * *"))
def report(context) -> pd.DataFrame:
    return pd.DataFrame({"day": [context.partition_key]})


@observable_source(partitions=DAYS, every="1s")
def landing(context):
    return (LANDING / f"{context.partition_key}.csv").read_bytes()


@asset(partitions=DAYS, deps=[AssetDep("landing", offset=(-1, 0))], automation=eager())
def rolling(context) -> pd.DataFrame:
    return pd.DataFrame({"day": [context.partition_key]})
"""


def built(project, asset: str) -> list[str]:
    with open_catalog(project.warehouse) as catalog:
        return sorted(r.partition for r in catalog.history(asset) if r.status == "materialized")


def tick_count(project) -> int:
    with open_catalog(project.warehouse) as catalog:
        return len(catalog.ticks())


def test_the_daemon_builds_what_is_due_and_reacts_once_to_a_changed_source(project):
    project.write("assets/scenario.py", SCENARIO)
    landing = project.root / "landing"
    landing.mkdir()
    for day in range(1, 5):
        (landing / f"2024-01-0{day}.csv").write_text(f"day {day}\n")
    # Yesterday's report became due at 06:00 today; the sources are observed, and rolling
    # (whose partitions exist already, never built) is built once its inputs have data.
    project.cli("daemon", "report", "--once", "--now", "2024-01-03T05:59", check=0)
    assert built(project, "report") == ["2024-01-01"]
    project.cli("daemon", "report", "--once", "--now", "2024-01-03T06:00", check=0)
    assert built(project, "report") == ["2024-01-01", "2024-01-02"]

    daemon = subprocess.Popen(
        [*PARTITA, "daemon", "landing", "rolling", "--tick", "0.2s"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        wait_for(lambda: len(built(project, "rolling")) == 4, what="rolling built")
        (landing / "2024-01-02.csv").write_text("day 2, corrected\n")
        wait_for(lambda: len(built(project, "rolling")) == 6, what="the rebuild")
        settled = tick_count(project)
        wait_for(lambda: tick_count(project) >= settled + 10, what="ten more ticks")
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(60) == 0
    finally:
        kill_all([daemon.pid])
    # Exactly the partitions reading the changed day (02 and 03), once each.
    assert built(project, "rolling") == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-02",
        "2024-01-03",
        "2024-01-03",
        "2024-01-04",
    ]
