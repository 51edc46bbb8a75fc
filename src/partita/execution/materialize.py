"""One materialization run from start to end: plan, clean leftovers, run, record the run."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from ..catalog import open_catalog
from ..catalog.records import FAILED as RUN_FAILED
from ..catalog.records import INTERRUPTED, SUCCEEDED
from ..executors import make_executor
from ..graph.graph import AssetGraph
from ..planning.plan import Plan, build_plan, tables_needed
from ..planning.staleness import FAILED as FAILED_LAST_TIME
from ..planning.staleness import Unit
from ..planning.state_table import load_state_tables
from ..planning.targets import PartitionRange
from .publishing import LeaseGuard
from .report import RunReport, UnitResult
from .runner import Runner, RunOptions
from .unit import Workspace


def run_materialization(
    graph: AssetGraph,
    warehouse: Path,
    assets: Sequence[str],
    requested: PartitionRange,
    now: datetime,
    *,
    command: str,
    options: RunOptions | None = None,
    workers: int = 1,
    retry_failed: bool = False,
    overdue: Mapping[Unit, str] | None = None,
    on_plan: Callable[[Plan], None] = lambda plan: None,
    on_unit_done: Callable[[UnitResult], None] = lambda result: None,
    sleep: Callable[[float], None] = time.sleep,
    root: Path | None = None,
) -> RunReport:
    """Materialize the missing or stale units of the selection and record the run.

    `retry_failed` runs only the units whose last attempt failed; `overdue` adds units to
    run with a reason (freshness catch-up). `root` (the project folder) lets worker
    processes load the project. Ctrl-C (or SIGTERM, see `execution.interrupts`) stops
    cleanly: the units in progress are recorded as interrupted (not materialized), the
    run as interrupted, the workers stopped, and the KeyboardInterrupt propagates.
    """
    options = replace(options or RunOptions(), catch_up=frozenset(overdue or ()))
    with open_catalog(warehouse) as catalog:
        catalog.mark_interrupted_runs(datetime.now(UTC))
        # Units a killed run was working on: rebuilt, their data may not be what is recorded.
        catalog.interrupt_dead_leases(datetime.now(UTC))
        tables = load_state_tables(catalog, graph, tables_needed(graph, assets))
        plan = build_plan(graph, assets, requested, tables, now, options.force, overdue)
        if retry_failed:
            plan = plan.restricted_to({FAILED_LAST_TIME})
        workspace = Workspace(graph, warehouse, sleep=sleep, root=root, guard=LeaseGuard(catalog))
        for asset in {unit.asset for unit in plan.to_run}:
            workspace.storage(asset).cleanup()
        executor = make_executor(workspace, workers if plan.to_run else 1)
        run_id = catalog.start_run(command, datetime.now(UTC))
        runner = Runner(graph, catalog, run_id, options, on_unit_done, root)
        try:
            on_plan(plan)
            results = runner.run(plan, executor)
        except KeyboardInterrupt:
            report = RunReport(run_id, tuple(runner.results.values()), INTERRUPTED)
            catalog.finish_run(run_id, datetime.now(UTC), INTERRUPTED, report.counts())
            raise
        finally:
            executor.close()
        report = RunReport(run_id, tuple(results), SUCCEEDED)
        if report.failed:
            report = RunReport(run_id, report.results, RUN_FAILED)
        catalog.finish_run(run_id, datetime.now(UTC), report.status, report.counts())
        return report
