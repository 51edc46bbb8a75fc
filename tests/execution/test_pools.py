"""Concurrency pools: at most N units of a pool at once across runs and processes; units
waiting for a full pool say so in the progress events and under --plan."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime

from conftest import PARTITA
from processes import kill_all, wait_for

from partita import RunListener, RunRequest, open_session
from partita.catalog import open_catalog
from partita.catalog.automation_records import current_holder

PYPROJECT = '[project]\nname = "demo"\nversion = "0"\n\n[tool.partita.pools]\ndb = 1\n'

POOLED = """
import os
import time
from pathlib import Path

import pandas as pd
from partita import DailyPartitions, asset

RUNNING = Path(__file__).parent.parent / "running"
DAYS = DailyPartitions(start="2024-01-01", end="2024-01-04")


def hold(name):
    marker = RUNNING / name
    marker.write_text("")
    with (RUNNING.parent / "seen.txt").open("a") as seen:
        seen.write(f"{len(list(RUNNING.iterdir()))}\\n")
    time.sleep(0.3)
    marker.unlink()
    return pd.DataFrame({"x": [1]})


@asset(partitions=DAYS, pool="db")
def a(context):
    return hold(f"a-{context.partition_key}")


@asset(partitions=DAYS, pool="db")
def b(context):
    return hold(f"b-{context.partition_key}")
"""


def pooled_project(project):
    (project.root / "pyproject.toml").write_text(PYPROJECT)
    (project.root / "running").mkdir()
    project.write("assets/pooled.py", POOLED)


def test_a_pool_of_one_runs_one_unit_at_a_time_across_two_runs(project):
    pooled_project(project)
    runs = [
        subprocess.Popen(
            [*PARTITA, "materialize", asset, "--workers", "2", "--now", "2024-01-05"],
            cwd=project.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "COLUMNS": "200"},
        )
        for asset in ("a", "b")
    ]
    try:
        assert [run.wait(300) for run in runs] == [0, 0]
    finally:
        kill_all([run.pid for run in runs])
    seen = (project.root / "seen.txt").read_text().split()
    assert len(seen) == 6 and set(seen) == {"1"}  # never two units of pool db at once
    with open_catalog(project.warehouse) as catalog:
        assert catalog.pool_slots() == []  # every slot freed


class Waits(RunListener):
    def __init__(self, catalog):
        self.catalog = catalog
        self.events = []

    def unit_waiting(self, run_id, unit, reason):
        self.events.append((unit.asset, unit.partition, reason))
        self.catalog.release_pool_slot("db", ("other", None), "other-run")  # free it


def test_a_unit_of_a_full_pool_waits_and_says_so(project):
    pooled_project(project)
    now = datetime(2024, 1, 2, tzinfo=UTC)
    with open_session(project.root) as session:
        catalog = session.catalog
        taken = catalog.acquire_pool_slot(
            "db", 1, ("other", None), "other-run", current_holder(), now, 30.0
        )
        assert taken
        plan = project.cli("materialize", "a", "--plan", "--now", "2024-01-02", check=0)
        assert "waiting for pool db (1 of 1 slots held by other runs): 1 units" in plan.stdout
        planned = project.cli("materialize", "--plan", "--json", "--now", "2024-01-03", check=0)
        assert planned.json()["pools"] == [
            {
                "pool": "db",
                "size": 1,
                "held": 1,
                "assets": ["a", "b"],
                "units": 4,
                "would_wait": True,
            }
        ]
        listener = Waits(catalog)
        report = session.run(RunRequest(selection=("a",), now=now), [listener])
    assert listener.events == [("a", "2024-01-01", "waiting for pool db")]
    assert [r.status for r in report.results] == ["materialized"]
    planned = project.cli("materialize", "--plan", "--json", "--now", "2024-01-03", check=0)
    assert planned.json()["pools"] == [
        {"pool": "db", "size": 1, "held": 0, "assets": ["a", "b"], "units": 3, "would_wait": False}
    ]


def test_a_plan_without_pools_says_so_in_its_json(project):
    project.write(
        "assets/plain.py", "from partita import asset\n\n@asset\ndef plain():\n    return None\n"
    )
    planned = project.cli("materialize", "--plan", "--json", check=0).json()
    assert planned["pools"] == [] and [u["asset"] for u in planned["units"]] == ["plain"]


def test_an_undeclared_pool_is_a_definition_error(project):
    project.write(
        "assets/bad.py",
        """
        from partita import asset

        @asset(pool="warehouse_db")
        def bad():
            return None
        """,
    )
    result = project.cli("list", check=2)
    assert "pool='warehouse_db' is not declared in [tool.partita.pools] (declared: none)" in (
        result.stderr
    )


HELD = """
import time
from pathlib import Path

import pandas as pd
from partita import asset

HERE = Path(__file__).parent.parent


def hold_until(name: str) -> None:
    while not (HERE / name).exists():  # the test says when to go on
        time.sleep(0.05)


@asset(pool="db")
def first() -> pd.DataFrame:
    (HERE / "first-running").write_text("")
    hold_until("first-go")
    return pd.DataFrame({"x": [1]})


@asset
def slow() -> pd.DataFrame:
    (HERE / "slow-running").write_text("")
    hold_until("slow-go")
    return pd.DataFrame({"x": [1]})


@asset(pool="db")
def second() -> pd.DataFrame:
    (HERE / "second-ran").write_text("")
    return pd.DataFrame({"x": [1]})
"""


def test_a_unit_waiting_for_a_pool_takes_a_slot_another_process_frees_at_once(project):
    (project.root / "pyproject.toml").write_text(PYPROJECT)
    project.write("assets/held.py", HELD)
    root = project.root

    def start(*assets: str) -> subprocess.Popen:
        return subprocess.Popen(
            [*PARTITA, "materialize", *assets, "--workers", "2"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "COLUMNS": "200"},
        )

    holder = start("first")
    waiter = None
    try:
        wait_for((root / "first-running").exists, what="first holds the pool's one slot")
        # The waiter's `slow` keeps running all along, so none of its own units ends while
        # `second` waits: only the re-check of the pool can let `second` start.
        waiter = start("slow", "second")
        # `slow` starts in a worker after the waiter tried `second` and found the pool full.
        wait_for((root / "slow-running").exists, what="slow running, second waiting")
        assert not (root / "second-ran").exists()
        (root / "first-go").write_text("")  # the other process frees the slot
        wait_for((root / "second-ran").exists, what="second started while slow still runs")
        assert not (root / "slow-go").exists()
        (root / "slow-go").write_text("")
        assert [holder.wait(120), waiter.wait(120)] == [0, 0]
    finally:
        kill_all([p.pid for p in (holder, waiter) if p is not None])
    with open_catalog(project.warehouse) as catalog:
        assert catalog.pool_slots() == []
