"""A worker process of the local pool: it loads the project itself (once, by root), runs the
unit jobs the coordinator sends over a pipe, and never outlives that coordinator.

It needs nothing inherited: the job names the project root, so the process may be spawned
(a fresh interpreter), forked, or run on another machine. Three things tie it to the
coordinator that leased its units: the parent-death signal (Linux: the kernel sends
SIGKILL when the coordinator dies), a liveness pipe (the coordinator never writes to it;
EOF means it is gone) and a check, just before publishing, that the coordinator is alive
and the catalog still gives the unit's lease to the job's run.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

from ..catalog import Catalog, open_catalog
from ..definitions.partitions.dynamic import bind_dynamic_keys, dynamic_sets
from ..discovery import DEFAULT_ENV, load_config, load_graph
from ..errors import PartitaError, describe_unit
from ..execution.log_context import configure_worker_logging
from ..execution.publishing import LeaseGuard, LeaseLostError
from ..execution.unit import UnitJob, UnitOutcome, Workspace
from ..graph.graph import AssetGraph

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
STARTED = "started"
DONE = "done"


def serve(
    connection: Connection,
    liveness: Connection,
    coordinator: int,
    workers: int,
    root: str,
    env: str | None = None,
) -> None:
    """The worker's main loop: `(job_id, job)` in, `(STARTED, id)` then `(DONE, id, outcome)`
    out, until the coordinator sends None or goes away. The project at `root` (in
    environment `env`) is loaded before the first job arrives (jobs for other roots load
    theirs when they come). The resources built here are closed when the loop ends."""
    _die_with_coordinator(coordinator)
    # Ctrl-C goes to the whole process group; the coordinator handles it and stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _share_cores(workers)
    configure_worker_logging()
    jobs = _Jobs(liveness, coordinator)
    jobs.warm_up(root, env)
    try:
        _serve_jobs(connection, jobs)
    finally:
        jobs.close()


def _serve_jobs(connection: Connection, jobs: _Jobs) -> None:
    while True:
        try:
            message = connection.recv()
            if message is None:
                return
            job_id, job = message
            connection.send((STARTED, job_id))
            outcome = jobs.run(job)
            if jobs.coordinator_gone():
                return  # nobody to report to; nothing was published (see _WorkerGuard)
            connection.send((DONE, job_id, outcome))
        except (EOFError, OSError):
            return  # the coordinator closed its end: it is gone or stopping


def _die_with_coordinator(coordinator: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies, then close the race
    where the parent died before the request."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != coordinator:
        os._exit(1)


def _share_cores(workers: int) -> None:
    # The workers share the cores: Arrow's own thread pool in each would oversubscribe them.
    import pyarrow

    pyarrow.set_cpu_count(max(1, (os.cpu_count() or 1) // workers))


@dataclass
class _Jobs:
    """Runs jobs against the projects this process loaded, one workspace per root."""

    liveness: Connection
    coordinator: int
    _workspaces: dict[tuple[str, str | None], Workspace] = field(default_factory=dict)

    def coordinator_gone(self) -> bool:
        # The liveness pipe is never written: readable means EOF, the coordinator's end closed.
        return os.getppid() != self.coordinator or self.liveness.poll()

    def warm_up(self, root: str, env: str | None = None) -> None:
        """Load the project and its storages' modules now, while the coordinator plans and
        dispatches; a failure is reported with the first job instead."""
        try:
            workspace = self._workspace(root, env)
        except PartitaError:
            return
        for asset in workspace.graph.order:
            workspace.storage(asset)

    def run(self, job: UnitJob) -> UnitOutcome:
        try:
            workspace = self._workspace(job.root, job.env)
        except PartitaError as error:
            return not_loaded(job, "the worker process", job.root, error)
        return workspace.execute(job)

    def close(self) -> None:
        """Close what the workspaces built in this process (resources, storages)."""
        workspaces, self._workspaces = self._workspaces, {}
        for workspace in workspaces.values():
            workspace.close()

    def _workspace(self, root: str | None, env: str | None = None) -> Workspace:
        if root is None:
            raise ValueError("a job for a worker process must name its project root")
        if (root, env) not in self._workspaces:
            config = load_config(Path(root), env or DEFAULT_ENV)
            graph = load_graph(config)
            guard = _WorkerGuard(self, config.warehouse, config.catalog)
            bind_catalog_keys(graph, guard.catalog)
            self._workspaces[(root, env)] = Workspace(
                graph,
                config.warehouse,
                root=Path(root),
                guard=guard,
                remote=True,
                env=env,
                resource_config=config.resources,
            )
        return self._workspaces[(root, env)]


@dataclass
class _WorkerGuard:
    """Before a worker publishes: the coordinator is alive and its run holds the lease."""

    jobs: _Jobs
    warehouse: Path
    catalog_url: str | None = None  # the project's catalog setting; None: in the warehouse
    _catalog: Catalog | None = None

    def __call__(self, asset: str, partition: str | None, run_id: str) -> None:
        if self.jobs.coordinator_gone():
            raise LeaseLostError(
                f"{describe_unit(asset, partition)}: not published: the process that leased "
                f"it for run {run_id} (pid {self.jobs.coordinator}) is gone."
            )
        LeaseGuard(self.catalog())(asset, partition, run_id)

    def catalog(self) -> Catalog:
        if self._catalog is None:
            # Read only: workers never write it.
            self._catalog = open_catalog(self.warehouse, self.catalog_url)
        return self._catalog


def not_loaded(job: UnitJob, worker: str, root: object, error: PartitaError) -> UnitOutcome:
    """The outcome of a job that `worker` could not run: it failed to load the project at
    `root`."""
    moment = datetime.now(UTC)
    message = (
        f"{describe_unit(job.asset, job.partition)}: not run: {worker} could not load the "
        f"project at {root}: {error.format()}"
    )
    return UnitOutcome(moment, moment, 0, 0.0, error=message)


def bind_catalog_keys(graph: AssetGraph, catalog: Callable[[], Catalog]) -> None:
    """Dynamic partitions read their keys from the catalog, as the coordinator's did
    (`catalog` opens it only when the graph has dynamic partitions)."""
    partitionings = [graph[asset].partitions for asset in graph.order]
    if any(dynamic_sets(partitions) for partitions in partitionings):
        bind_dynamic_keys(partitionings, lambda name: catalog().dynamic_keys(name))
