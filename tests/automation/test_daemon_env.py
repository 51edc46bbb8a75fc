"""`partita --env NAME daemon`: the run processes the daemon launches work in the same
environment (its warehouse and catalog), not in the plain `[tool.partita]` one."""

from __future__ import annotations

from partita.catalog import open_catalog

PYPROJECT = """
[project]
name = "demo"
version = "0"

[tool.partita.env.other]
warehouse = "other-warehouse"
"""
ASSET = """
import pandas as pd
from partita import DailyPartitions, asset, on_missing


@asset(partitions=DailyPartitions(start="2024-01-01"), automation=on_missing())
def daily(context) -> pd.DataFrame:
    return pd.DataFrame({"day": [context.partition_key]})
"""


def test_the_daemon_runs_its_ticks_in_its_environment(project):
    (project.root / "pyproject.toml").write_text(PYPROJECT)
    project.write("assets/daily.py", ASSET)
    project.cli("--env", "other", "daemon", "--once", "--now", "2024-01-03T12:00", check=0)
    with open_catalog(project.root / "other-warehouse") as catalog:
        built = sorted(r.partition for r in catalog.history("daily") if r.status == "materialized")
        assert built == ["2024-01-01", "2024-01-02"]
        assert [t.status for t in catalog.ticks()] == ["finished"]
    assert not (project.warehouse / ".partita").exists()  # the plain warehouse is untouched
