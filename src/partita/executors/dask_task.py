"""What a Dask worker runs for a batch of units: load the project (once per worker
process, again when its code changed), then execute each job, publishing only while the
run holds the unit's lease. Imported by reference on the workers, so it stays light."""

from __future__ import annotations

import os
import pickle
import threading
from pathlib import Path
from typing import Any

from ..catalog import open_catalog
from ..discovery import DEFAULT_ENV, load_config, load_graph
from ..errors import PartitaError
from ..execution.publishing import LeaseGuard
from ..execution.unit import UnitJob, UnitOutcome, Workspace
from ..graph.graph import AssetGraph
from ..packaged import MODULE_VARIABLE, worker_project_root
from .dask_timeouts import FencedGuard, still_wanted
from .worker import bind_catalog_keys, not_loaded

ROOT_VARIABLE = "PARTITA_PROJECT_ROOT"  # on a worker: where it finds the project
# (or PARTITA_PROJECT_MODULE: the import name of the project installed as a package)
STARTED_ATTRIBUTE = "partita_started"  # on the scheduler: the keys of the tasks that began
PRUNED_ATTRIBUTE = "partita_started_pruned"  # on the scheduler: how many the last pruning kept
PRUNE_AT = 1000  # records kept before the first pruning
RUNNING_TOPIC = "partita-running"  # events naming the timed tasks that began their unit
OUTCOME_TOPIC = "partita-outcome"  # events carrying each finished unit's outcome
RAN_BEFORE = "ran-before"  # what a task Dask runs a second time returns instead

_workspaces: dict[tuple[str, str | None, str | None], Workspace] = {}
_lock = threading.Lock()


def run_jobs(jobs: list[UnitJob], catalog: str | None) -> list[UnitOutcome] | str:
    """Execute `jobs` in order on this worker (one Dask task runs a batch of units, which
    divides Dask's cost per task); `catalog` is the run's catalog URL without password
    (None: the project's own), where the lease is checked before publishing. Returns
    `RAN_BEFORE` without running when Dask runs the task again (see `_announce_start`).

    Each outcome but the last is logged under `OUTCOME_TOPIC` with a call that returns once
    the scheduler has it, before the next unit begins: the coordinator records each unit
    as it finishes, and when the worker dies it knows exactly which unit had begun (the
    first without an outcome) and which never did (those after it). The same call says
    whether the run still wants the task; when its coordinator cancelled it or went away,
    the units not begun never run (their outcomes are left out)."""
    from distributed import get_client, get_worker

    if not _announce_start():
        return RAN_BEFORE
    worker = get_worker()
    key = worker.get_current_task()
    outcomes = []
    for index, job in enumerate(jobs):
        outcome = _run(job, catalog)
        outcomes.append(outcome)
        message = {"key": key, "index": index, "outcome": pickle.dumps(outcome)}
        if index + 1 < len(jobs):
            if not get_client().run_on_scheduler(report_outcome, key, message):
                break
        else:
            # Batched with the task's result, which stays in this worker's memory until
            # the coordinator gathers it: should the worker die first, the coordinator
            # finds the outcome here instead.
            worker.log_event(OUTCOME_TOPIC, message)
    return outcomes


def _run(job: UnitJob, catalog: str | None) -> UnitOutcome:
    root = os.environ.get(MODULE_VARIABLE) or os.environ.get(ROOT_VARIABLE) or job.root
    try:
        root = worker_project_root(job.root)
        with _lock:
            workspace = _workspace(str(root), catalog, job)
    except PartitaError as error:
        return not_loaded(job, "the Dask worker", root, error)
    if workspace.graph[job.asset].timeout is not None:
        _announce(RUNNING_TOPIC)  # its timeout counts from here, not from loading
    return workspace.execute(job)


def _workspace(root: str, catalog: str | None, job: UnitJob) -> Workspace:
    """The loaded project at `root`; loaded again when the job was planned with code this
    worker has not loaded (a long-lived worker outlives edits). If the code still differs,
    `Workspace.execute` refuses the job, naming both versions."""
    key = (root, catalog, job.env)
    workspace = _workspaces.get(key)
    if workspace is None or _outdated(workspace, job):
        if workspace is not None:
            workspace.close()
        workspace = _load(root, catalog, job.env)
        _workspaces[key] = workspace
    return workspace


def _outdated(workspace: Workspace, job: UnitJob) -> bool:
    if job.asset not in workspace.graph:
        return True
    return job.code_version not in (None, workspace.graph[job.asset].code_version)


def _load(root: str, catalog: str | None, env: str | None) -> Workspace:
    # The run's catalog (its URL carries no password: the worker's PG* variables or
    # ~/.pgpass give it), else the project's own setting.
    config = load_config(Path(root), env or DEFAULT_ENV, catalog=catalog)
    graph = load_graph(config)
    # Read only: workers never write the catalog.
    opened = open_catalog(config.warehouse, config.catalog)
    bind_catalog_keys(graph, lambda: opened)
    return Workspace(
        graph,
        config.warehouse,
        root=Path(root),
        guard=FencedGuard(LeaseGuard(opened), _timed(graph)),
        remote=True,
        env=env,
        resource_config=config.resources,
    )


def _announce(topic: str) -> None:
    from distributed import get_worker

    worker = get_worker()
    worker.log_event(topic, worker.get_current_task())


def _timed(graph: AssetGraph) -> frozenset[str]:
    """The assets with a timeout: their tasks check the fence before publishing."""
    return frozenset(asset for asset in graph.order if graph[asset].timeout is not None)


def _announce_start() -> bool:
    """Tell the scheduler this task began (when its worker dies, the coordinator counts an
    attempt only for tasks that began, and runs the ones merely queued there again);
    False when this task began before: Dask recomputes a finished task whose result died
    with its worker, which must not run the unit again behind partita's back.

    One round trip, answered from a set on the scheduler (`claim_start`): it returns once
    the scheduler has the record (a worker's own log_event is batched: a worker killed just
    after it would leave a unit that began looking merely queued, and the coordinator would
    run it again without an attempt)."""
    from distributed import get_client, get_worker

    return get_client().run_on_scheduler(claim_start, get_worker().get_current_task())


def claim_start(key: str, dask_scheduler: Any) -> bool:
    """Run on the scheduler: record that the task `key` began; False when it began before.

    A record matters only while the scheduler knows the task (a task Dask forgot is never
    recomputed; partita submits a unit again under a new key), so the records of forgotten
    tasks are dropped as the set grows: constant time per task, bounded memory."""
    started: set[str] = getattr(dask_scheduler, STARTED_ATTRIBUTE, set())
    if key in started:
        return False
    started.add(key)
    if len(started) > 2 * getattr(dask_scheduler, PRUNED_ATTRIBUTE, 0) + PRUNE_AT:
        started = {known for known in started if known in dask_scheduler.tasks}
        setattr(dask_scheduler, PRUNED_ATTRIBUTE, len(started))
    setattr(dask_scheduler, STARTED_ATTRIBUTE, started)
    return True


def report_outcome(key: str, message: dict[str, Any], dask_scheduler: Any) -> bool:
    """Run on the scheduler: log a unit's outcome; whether the task `key` is still wanted."""
    dask_scheduler.log_event(OUTCOME_TOPIC, message)
    return still_wanted(key, dask_scheduler)


def began(keys: list[str], dask_scheduler: Any) -> list[str]:
    """Run on the scheduler: those of `keys` whose task began (see `claim_start`)."""
    started: set[str] = getattr(dask_scheduler, STARTED_ATTRIBUTE, set())
    return [key for key in keys if key in started]
