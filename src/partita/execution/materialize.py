"""One materialization run from start to end: clean leftovers, run the plan, record the run.

The session plans (after `recover_dead_runs`) and calls `execute_plan`. The run's first
error wins: an error while cleaning up (releasing leases, recording the run's end,
stopping workers) is logged and attached to it, never put in its place.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..catalog.base import Catalog
from ..catalog.records import RunStatus
from ..errors import MaterializationError, PartitaError
from ..executors import make_executor
from ..executors.base import Executor
from ..graph.graph import AssetGraph
from ..planning.plan import Plan
from .cleanup import cleanup_step
from .events import RunListener
from .publishing import LeaseGuard
from .report import RunReport
from .runner import Runner, RunOptions
from .unit import Workspace


def recover_dead_runs(catalog: Catalog) -> None:
    """Before planning a run: record runs whose process died as interrupted, and the units
    they were working on as interrupted (their data may not be what is recorded, so they
    are rebuilt)."""
    catalog.mark_interrupted_runs(datetime.now(UTC))
    catalog.interrupt_dead_leases(datetime.now(UTC))


@dataclass(frozen=True)
class RunContext:
    """Where a run's units run and what they see.

    `root` (the project folder) lets worker processes load the project, in environment
    `env`; `resources` is the configuration of the resources; `executor` names where units
    run (`executors.make_executor`) with `workers` of them, and `catalog_url` the catalog
    remote workers check leases in; `deferred` is the warehouse of another environment and
    the states there of the upstream assets read from it (`--defer-to`, never written).
    """

    root: Path | None = None
    env: str | None = None
    resources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    executor: str | None = None
    workers: int = 1
    catalog_url: str | None = None
    deferred: tuple[Path, Mapping[str, dict]] | None = None


def execute_plan(
    graph: AssetGraph,
    warehouse: Path,
    catalog: Catalog,
    plan: Plan,
    *,
    command: str,
    options: RunOptions,
    context: RunContext = RunContext(),
    listener: RunListener | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RunReport:
    """Run the plan's units in `context` and record the run; `listener` hears its events.

    Ctrl-C (or SIGTERM, see `execution.interrupts`) stops cleanly: the units in progress
    are recorded as interrupted (not materialized), the run as interrupted, the workers
    stopped, and the KeyboardInterrupt propagates. A `PartitaError` after the run started
    (a full disk, a damaged catalog) records the run as failed and raises
    `MaterializationError` carrying the report.
    """
    listener = listener or RunListener()
    workspace = Workspace(
        graph,
        warehouse,
        sleep=sleep,
        root=context.root,
        guard=LeaseGuard(catalog),
        env=context.env,
        resource_config=context.resources,
    )
    run_id = catalog.start_run(command, datetime.now(UTC))
    runner = _runner(graph, catalog, run_id, options, listener, context)
    executor = None
    try:
        for asset in {unit.asset for unit in plan.to_run}:
            workspace.storage(asset).cleanup()
        executor = _executor(graph, plan, workspace, context, options.max_failures is not None)
        listener.run_started(run_id, plan)
        results = runner.run(plan, executor)
        _stop(run_id, executor, workspace)  # on success, an error here is the first one
    except BaseException as error:
        _stop(run_id, executor, workspace)
        interrupted = isinstance(error, KeyboardInterrupt)
        status = RunStatus.INTERRUPTED if interrupted else RunStatus.FAILED
        report = RunReport(run_id, tuple(runner.results.values()), status)
        _finish(catalog, report, listener)
        if isinstance(error, PartitaError):
            raise MaterializationError(run_id, error, report) from error
        raise
    report = RunReport(run_id, tuple(results), RunStatus.SUCCEEDED)
    if report.failed:
        report = replace(report, status=RunStatus.FAILED)
    try:
        catalog.finish_run(run_id, datetime.now(UTC), report.status, report.counts())
    except PartitaError as error:
        listener.run_finished(report)
        raise MaterializationError(run_id, error, report) from error
    listener.run_finished(report)
    return report


def _runner(
    graph: AssetGraph,
    catalog: Catalog,
    run_id: str,
    options: RunOptions,
    listener: RunListener,
    context: RunContext,
) -> Runner:
    deferred = context.deferred
    return Runner(
        graph,
        catalog,
        run_id,
        options,
        listener,
        context.root,
        env=context.env,
        deferred_states={a: dict(states) for a, states in (deferred or (None, {}))[1].items()},
        deferred_warehouse=None if deferred is None else str(deferred[0]),
    )


def _executor(
    graph: AssetGraph, plan: Plan, workspace: Workspace, context: RunContext, cautious: bool
) -> Executor:
    """The executor of the context's kind (inline when there is nothing to run); `cautious`
    with a circuit breaker (as few units in flight as it allows)."""
    if not plan.to_run:
        return make_executor(workspace, 1, None, context.catalog_url, False)
    timed = any(graph[unit.asset].timeout is not None for unit in plan.to_run)
    return make_executor(
        workspace, context.workers, context.executor, context.catalog_url, timed, cautious
    )


def _stop(run_id: str, executor: Executor | None, workspace: Workspace) -> None:
    """Stop the workers, then close the storages (both may be called twice)."""
    if executor is not None:
        with cleanup_step(f"stop the workers of run {run_id}"):
            executor.close()
    with cleanup_step(f"close the storages of run {run_id}"):
        workspace.close()


def _finish(catalog: Catalog, report: RunReport, listener: RunListener) -> None:
    """Record the end of a run that stopped on an error (best effort: that error wins)
    and tell the listener."""
    with cleanup_step(f"record the end of run {report.run_id}"):
        catalog.finish_run(report.run_id, datetime.now(UTC), report.status, report.counts())
    listener.run_finished(report)
