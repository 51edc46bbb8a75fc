"""Observable sources through the real CLI: `partita observe` records a data version per
partition; exactly the downstream partitions reading a changed one go stale."""

from __future__ import annotations

SOURCE = """
from pathlib import Path

import pandas as pd
from partita import AssetDep, DailyPartitions, asset, observable_source

LANDING = Path(__file__).parent.parent / "landing"
DAYS = DailyPartitions(start="2024-01-01", end="2024-01-06")


@observable_source(partitions=DAYS, every="1h")
def landing(context):
    path = LANDING / f"{context.partition_key}.csv"
    return path.read_bytes() if path.exists() else "absent"


@asset(partitions=DAYS, deps=[AssetDep("landing", offset=(-1, 0))])
def rolling(context) -> pd.DataFrame:
    return pd.DataFrame({"day": [context.partition_key]})
"""
NOW = ("--now", "2024-01-10")


def plan(project) -> list[tuple[str, str, str]]:
    units = project.cli("materialize", "--plan", "--json", *NOW, check=0).json()["units"]
    return [(u["asset"], u["partition"], u["reason"]) for u in units]


def test_a_changed_file_makes_exactly_the_mapped_downstream_partitions_stale(project):
    project.write("assets/sources.py", SOURCE)
    landing = project.root / "landing"
    landing.mkdir()
    for day in range(1, 6):
        (landing / f"2024-01-0{day}.csv").write_text(f"day {day}\n")
    project.cli("materialize", *NOW, check=0)  # observes the sources, then builds rolling
    project.cli("observe", *NOW, check=0)
    assert plan(project) == []  # nothing changed outside

    (landing / "2024-01-03.csv").write_text("day 3, corrected\n")
    observed = project.cli("observe", "landing", *NOW, "--json", check=0).json()

    assert observed["counts"]["materialized"] == 5  # every partition observed
    # rolling reads (day - 1, day): the days 03 and 04 read the changed file.
    assert plan(project) == [
        ("rolling", "2024-01-03", "upstream changed: landing 2024-01-03"),
        ("rolling", "2024-01-04", "upstream changed: landing 2024-01-03"),
    ]
    project.cli("materialize", *NOW, check=0)
    assert plan(project) == []


def test_observe_needs_a_source_and_a_source_has_no_data_to_read(project):
    project.write("assets/sources.py", SOURCE)
    (project.root / "landing").mkdir()
    result = project.cli("observe", "rolling", *NOW, check=2)
    assert "holds no observable source" in result.stderr

    project.write(
        "assets/reader.py",
        """
        from partita import DailyPartitions, asset

        @asset(partitions=DailyPartitions(start="2024-01-01", end="2024-01-06"))
        def reader(landing):
            return landing
        """,
    )
    result = project.cli("list", check=2)
    assert "cannot read 'landing': it is an observable source, which stores no data" in (
        result.stderr
    )
