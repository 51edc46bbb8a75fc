"""What a Dask worker runs for one unit: load the project (once per worker process, again
when its code changed), then execute the job, publishing only while the run holds the
unit's lease. Imported by reference on the workers, so it stays light."""

from __future__ import annotations

import os
import pickle
import threading
from pathlib import Path

from ..catalog import open_catalog
from ..discovery import DEFAULT_ENV, load_config, load_graph
from ..errors import PartitaError
from ..execution.publishing import LeaseGuard
from ..execution.unit import UnitJob, UnitOutcome, Workspace
from ..graph.graph import AssetGraph
from ..packaged import MODULE_VARIABLE, worker_project_root
from .dask_timeouts import FencedGuard
from .worker import bind_catalog_keys, not_loaded

ROOT_VARIABLE = "PARTITA_PROJECT_ROOT"  # on a worker: where it finds the project
# (or PARTITA_PROJECT_MODULE: the import name of the project installed as a package)
STARTED_TOPIC = "partita-started"  # events naming the tasks that began to run
RUNNING_TOPIC = "partita-running"  # events naming the timed tasks that began their unit
OUTCOME_TOPIC = "partita-outcome"  # events carrying each finished task's outcome
RAN_BEFORE = "ran-before"  # what a task Dask runs a second time returns instead

_workspaces: dict[tuple[str, str | None, str | None], Workspace] = {}
_lock = threading.Lock()


def run_job(job: UnitJob, catalog: str | None) -> UnitOutcome | str:
    """Execute `job` on this worker; `catalog` is the run's catalog URL without password
    (None: the project's own), where the lease is checked before publishing. Returns
    `RAN_BEFORE` without running when Dask runs the task again (see `_announce_start`)."""
    if not _announce_start():
        return RAN_BEFORE
    outcome = _run(job, catalog)
    # The result stays in this worker's memory until the coordinator gathers it: should
    # the worker die first, the coordinator finds the outcome here instead.
    from distributed import get_worker

    worker = get_worker()
    worker.log_event(
        OUTCOME_TOPIC, {"key": worker.get_current_task(), "outcome": pickle.dumps(outcome)}
    )
    return outcome


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
    with its worker, which must not run the unit again behind partita's back."""
    from distributed import get_client, get_worker

    key = get_worker().get_current_task()
    client = get_client()
    if any(message == key for _, message in client.get_events(STARTED_TOPIC)):
        return False
    # The client's call returns once the scheduler has the event (a worker's own
    # log_event is batched: a worker killed just after it would leave a unit that began
    # looking merely queued, and the coordinator would run it again without an attempt).
    client.log_event(STARTED_TOPIC, key)
    return True
