"""One materialization run from start to end: clean leftovers, plan, run, record the run."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from ..catalog import open_catalog
from ..catalog.records import FAILED as RUN_FAILED
from ..catalog.records import INTERRUPTED, SUCCEEDED
from ..graph.graph import AssetGraph
from ..planning.plan import Plan, build_plan
from ..planning.targets import PartitionRange
from .report import RunReport, UnitResult
from .runner import Runner


def run_materialization(
    graph: AssetGraph,
    warehouse: Path,
    assets: Sequence[str],
    requested: PartitionRange,
    now: datetime,
    *,
    command: str,
    force: bool = False,
    on_plan: Callable[[Plan], None] = lambda plan: None,
    on_unit_done: Callable[[UnitResult], None] = lambda result: None,
    sleep: Callable[[float], None] = time.sleep,
) -> RunReport:
    """Materialize the missing or stale units of the selection and record the run.

    Ctrl-C stops cleanly: the unit in progress is recorded as interrupted (not
    materialized), the run as interrupted, and the KeyboardInterrupt propagates.
    """
    with open_catalog(warehouse) as catalog:
        catalog.mark_interrupted_runs(datetime.now(UTC))
        states = catalog.all_states()
        plan = build_plan(graph, assets, requested, states, now, force)
        on_plan(plan)
        run_id = catalog.start_run(command, datetime.now(UTC))
        runner = Runner(
            graph=graph,
            warehouse=warehouse,
            catalog=catalog,
            run_id=run_id,
            states={asset: dict(by_key) for asset, by_key in states.items()},
            force=force,
            sleep=sleep,
            on_unit_done=on_unit_done,
        )
        for asset in {unit.asset for unit in plan.to_run}:
            runner.storage(asset).cleanup()
        results: list[UnitResult] = []
        try:
            results = runner.run(plan)
        except KeyboardInterrupt:
            report = RunReport(run_id, tuple(results), INTERRUPTED)
            catalog.finish_run(run_id, datetime.now(UTC), INTERRUPTED, report.counts())
            raise
        report = RunReport(run_id, tuple(results), SUCCEEDED)
        if report.failed:
            report = RunReport(run_id, report.results, RUN_FAILED)
        catalog.finish_run(run_id, datetime.now(UTC), report.status, report.counts())
        return report
