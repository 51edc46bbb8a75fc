"""The Python API's observability: alerts, statistics and unit logs of a project."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from partita.errors import UsageError

NOW = datetime(2024, 1, 3, tzinfo=UTC)

ASSETS = """
import pathlib

import pandas as pd
from partita import DailyPartitions, asset

HERE = pathlib.Path(__file__).parent


@asset(partitions=DailyPartitions(start="2024-01-01"))
def orders(context):
    context.log.info("building %s", context.partition_key)
    if (HERE / "broken.txt").exists():
        raise RuntimeError("down")
    return pd.DataFrame({"id": [1, 2]})
"""


def test_alerts_stats_and_logs_from_python(project) -> None:
    (project.root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n[[tool.partita.alerts.rules]]\nwhen = "unit_failed"\n'
        'channel = { command = "true" }\n'
    )
    project.write("assets/shop.py", ASSETS)
    broken = project.root / "assets" / "broken.txt"
    broken.write_text("yes")
    api = project.load()
    failed = api.materialize(now=NOW)
    assert [incident.partition for incident in api.alerts(only_open=True)] == [
        "2024-01-02",
        "2024-01-01",
    ]  # newest first
    broken.unlink()
    api = project.load()
    api.materialize(now=NOW)
    assert api.alerts(only_open=True) == []
    assert {len(incident.notifications) for incident in api.alerts()} == {2}

    stats = api.stats("orders")
    (orders,) = stats["assets"]
    assert (orders["units"], orders["success_rate"]) == (4, 0.5)
    assert len(stats["runs"]) == 2

    entries = api.logs(failed.run_id, "orders", "2024-01-01")
    assert (entries[0]["level"], entries[0]["message"]) == ("INFO", "building 2024-01-01")
    assert entries[-1]["level"] == "ERROR"
    with pytest.raises(UsageError, match="there is no run 'nope'"):
        api.logs("nope")
