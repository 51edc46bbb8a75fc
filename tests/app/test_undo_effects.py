"""`rollback --plan`'s downstream effects: every partition that would go stale,
transitively, and early cutoff (what read the restored data stays fresh, and so does
everything below it). Checked against what the planner says after the real rollback."""

from __future__ import annotations

from datetime import UTC, datetime

from partita.app.requests import PlanRequest, RunRequest
from partita.app.session import open_session
from partita.app.undo import rollback_targets, run_restores
from partita.app.undo_effects import rollback_effects

NOW = datetime(2024, 1, 3, tzinfo=UTC)
DAYS = ["2024-01-01", "2024-01-02"]
ASSETS = """
import pathlib

import pyarrow as pa
from partita import DailyPartitions, asset

ROOT = pathlib.Path(__file__).parent.parent
DAILY = DailyPartitions(start="2024-01-01")


@asset(partitions=DAILY)
def sales(context):
    generation = int((ROOT / "generation.txt").read_text())
    return pa.table({"day": [context.partition_key], "generation": [generation]})


@asset(partitions=DAILY)
def daily(sales):
    return sales


@asset(partitions=DAILY)
def report(daily):
    return daily


@asset(partitions=DAILY)
def side(sales):
    return sales


@asset(partitions=DAILY)
def below_side(side):
    return side
"""


def run(session, project, generation: int, *selection: str, force: bool = False) -> str:
    (project.root / "generation.txt").write_text(str(generation))
    request = RunRequest(selection=selection, now=NOW, force=force, command="test")
    return session.run(request).run_id


def test_the_plan_lists_every_partition_that_goes_stale_transitively(project) -> None:
    project.write("assets/pipeline.py", ASSETS)
    session = open_session(project.root)
    try:
        run(session, project, 1)
        bad = run(session, project, 2, "sales", force=True)
        run(session, project, 2, "daily", "report")  # they read the bad data; side did not
        targets = rollback_targets(session, bad)
        effects = rollback_effects(session, targets)

        stale = sorted((e.asset, e.partition, str(e.reason)) for e in effects if e.reason)
        assert stale == sorted(
            [("daily", d, f"upstream restored: sales {d}") for d in DAYS]
            + [("report", d, f"upstream stale: daily {d}") for d in DAYS]
        )
        fresh = sorted((e.asset, e.partition) for e in effects if e.reason is None)
        assert fresh == [("side", d) for d in DAYS]  # below_side is not even reached

        report = run_restores(session, targets, f"rollback {bad}")
        assert report.status == "succeeded"
        plan = session.plan(PlanRequest(now=NOW))
        planned = sorted((u.asset, u.partition) for u in plan.to_run)
        assert planned == sorted((asset, key) for asset, key, _ in stale)
    finally:
        session.close()
