"""The issue's "done when" on the example project (NYC flights 2013), through the real CLI:
a running `partita daemon` materializes the day that became due at 06:00 New York time
(`on_cron`) and what follows it (`eager`); after a weather correction lands, the observable
source `weather_corrections` notices it and exactly that day's weather and the daily
metrics reading it are rebuilt, once. The daemon stops on SIGTERM with exit code 0."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

from conftest import PARTITA, TempProject
from processes import kill_all, wait_for

from partita import load_project
from partita.catalog import open_catalog

EXAMPLE = Path(__file__).resolve().parents[2] / "assets"
PREPARED = "2013-01-04T12:00:00-05:00"  # January 1-3 are complete
MORNING = "2013-01-05T06:30:00-05:00"  # 06:00 passed: January 4 became due
DAILY = ("flights", "weather", "flights_weather", "carrier_delays", "on_time_rolling")
CORRECTION = "origin,time_hour,temp\nJFK,2013-01-02T14:00:00Z,99.5\n"


def example(tmp_path: Path) -> TempProject:
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root / "assets", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text(
        '[project]\nname = "example"\nversion = "0"\n\n'
        '[tool.partita]\nassets = "assets"\nwarehouse = "warehouse"\n'
    )
    return TempProject(root)


def builds(project) -> Counter:
    """How often each (asset, partition) was materialized; observations left out."""
    with open_catalog(project.warehouse) as catalog:
        return Counter(
            (asset, record.partition)
            for asset in (*DAILY, "carrier_scorecard")
            for record in catalog.history(asset)
            if record.status == "materialized"
        )


def tick_count(project) -> int:
    with open_catalog(project.warehouse) as catalog:
        return len(catalog.ticks())


def once_each(days: range, twice: tuple[tuple[str, str], ...] = ()) -> Counter:
    built = Counter({(asset, f"2013-01-0{day}"): 1 for asset in DAILY for day in days})
    built.update(twice)
    return built


def test_the_daemon_runs_the_example_on_time_and_reacts_once_to_a_correction(tmp_path):
    project = example(tmp_path)
    sources = project.root / "assets" / "sources.py"
    # The example polls its landing folder every minute; the test does not wait that long.
    text = sources.read_text()
    assert 'every="1m"' in text
    sources.write_text(text.replace('every="1m"', 'every="1s"'))
    project.cli("materialize", "--now", PREPARED, check=0)
    assert builds(project) == once_each(range(1, 4))

    output = tmp_path / "daemon.log"  # a file, not a pipe nobody reads, which could fill
    with output.open("w") as log:
        daemon = subprocess.Popen(
            [*PARTITA, "daemon", "--tick", "0.2s", "--now", MORNING],
            cwd=project.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
        )
    try:
        due = once_each(range(1, 5))
        wait_for(lambda: builds(project) == due, timeout=180, what="January 4 built")
        requested = [
            (unit["asset"], unit["partition"], unit["why"])
            for tick in project.cli("ticks", "--json", "--limit", "1000", check=0).json()["ticks"]
            for unit in tick["requested"]
        ]
        assert ("flights", "2013-01-04", "on_cron '0 6 * * *' (America/New_York)") in (requested), (
            requested
        )

        correction = project.root / "landing" / "weather" / "2013-01-02.csv"
        correction.parent.mkdir(parents=True)
        correction.write_text(CORRECTION)
        rebuilt = once_each(
            range(1, 5),
            twice=tuple(
                (asset, "2013-01-02") for asset in ("weather", "flights_weather", "carrier_delays")
            ),
        )
        wait_for(lambda: builds(project) == rebuilt, timeout=180, what="the correction")
        settled = tick_count(project)
        wait_for(lambda: tick_count(project) >= settled + 10, what="ten more ticks")
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(60) == 0, output.read_text()
    finally:
        kill_all([daemon.pid])
    # Exactly the weather of the corrected day and the daily metrics reading it, once each;
    # the rolling on-time rate reads no weather, no month is complete yet.
    assert builds(project) == rebuilt
    weather = load_project(project.root).read("weather", "2013-01-02")
    hour = weather[(weather["origin"] == "JFK") & (weather["hour"] == 9)]
    assert hour["temp"].tolist() == [99.5]  # 14:00 UTC is 09:00 in New York
