"""Timeouts: a unit over its timeout is stopped (its worker process killed), fails with
`timed out after ...`, is retried per its Retry, and publishes nothing."""

from __future__ import annotations

import pytest

SLEEPY = """
import time
from pathlib import Path

import pandas as pd
from partita import DailyPartitions, Retry, asset

HERE = Path(__file__).parent
DAYS = DailyPartitions(start="2024-01-01", end="2024-01-03")


@asset(partitions=DAYS, timeout="1s", retry=Retry(max_attempts=2, initial_delay=0))
def sleepy(context) -> pd.DataFrame:
    with (HERE / "calls.txt").open("a") as calls:
        calls.write(context.partition_key + "\\n")
    if context.partition_key == "2024-01-01":
        time.sleep(600)
    return pd.DataFrame({"day": [context.partition_key]})
"""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_sleeping_asset_times_out_without_hanging_the_run(project, workers):
    project.write("assets/sleepy.py", SLEEPY)
    result = project.cli(
        "materialize", "--now", "2024-01-05", "--workers", workers, "--json", check=1
    )
    by_day = {r["partition"]: r for r in result.json()["results"]}
    stopped = by_day["2024-01-01"]
    assert stopped["status"] == "failed" and stopped["attempts"] == 2
    assert stopped["error"].startswith(
        "asset 'sleepy' partition 2024-01-01: timed out after 1s (its worker process"
    )
    assert "give it a longer timeout=" in stopped["error"]
    assert by_day["2024-01-02"]["status"] == "materialized"
    calls = (project.root / "assets" / "calls.txt").read_text().split()
    assert calls.count("2024-01-01") == 2  # retried once, as Retry allows
    assert not list(project.warehouse.glob("sleepy/date=2024-01-01/*"))  # nothing published


def test_the_project_default_timeout_applies_to_assets_without_one(project):
    (project.root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n\n[tool.partita]\ntimeout = "1s"\n'
    )
    project.write(
        "assets/slow.py",
        """
        import time

        import pandas as pd
        from partita import asset

        @asset
        def slow() -> pd.DataFrame:
            time.sleep(600)
            return pd.DataFrame({"x": [1]})
        """,
    )
    result = project.cli("materialize", "--json", check=1)
    (only,) = result.json()["results"]
    assert only["error"].startswith("asset 'slow': timed out after 1s")


def test_a_bad_timeout_is_a_definition_error(project):
    project.write(
        "assets/bad.py",
        """
        from partita import asset

        @asset(timeout="soon")
        def bad():
            return None
        """,
    )
    result = project.cli("list", check=2)
    assert "timeout=: cannot read the duration 'soon'" in result.stderr


BACKING_OFF = """
import time
from pathlib import Path

import pandas as pd
from partita import DailyPartitions, Retry, asset

HERE = Path(__file__).parent
DAYS = DailyPartitions(start="2024-01-01", end="2024-01-03")


@asset(partitions=DAYS, timeout="1s", retry=Retry(max_attempts=2, initial_delay=3, jitter=False))
def sleepy(context) -> pd.DataFrame:
    with (HERE / "calls.txt").open("a") as calls:
        calls.write(f"{context.partition_key} {time.time()}\\n")
    if context.partition_key == "2024-01-01":
        time.sleep(600)
    return pd.DataFrame({"day": [context.partition_key]})
"""


def test_a_retry_after_a_timeout_waits_its_backoff_delay(project):
    project.write("assets/sleepy.py", BACKING_OFF)
    # Two workers: when the first one is stopped, the other is idle and could take the
    # retry at once; the retry waits its Retry delay (3 s) first.
    result = project.cli("materialize", "--now", "2024-01-05", "--workers", "2", check=1)
    assert "timed out after 1s (its worker process" in result.stderr
    assert "attempt 1/2, running it again in 3.00 s" in result.stderr
    calls = [
        line.split()
        for line in (project.root / "assets" / "calls.txt").read_text().split("\n")
        if line
    ]
    starts = [float(at) for key, at in calls if key == "2024-01-01"]
    assert len(starts) == 2
    # The first attempt ran its 1 s, then the retry waited 3 s (a lower bound, not a speed).
    assert starts[1] - starts[0] >= 3.0
