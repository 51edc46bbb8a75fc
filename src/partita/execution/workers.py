"""Where units execute: inline in the runner's process, or in a pool of worker processes.

Worker processes are forked, so they inherit the loaded project (asset functions from
dynamically imported modules cannot be pickled by reference). They never touch the
catalog: the runner records every outcome in the parent process.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from typing import Protocol

from ..errors import describe_unit
from ..planning.staleness import Unit
from .unit import UnitJob, UnitOutcome, Workspace


class Executor(Protocol):
    """Runs unit jobs and hands back their outcomes as they finish."""

    def has_capacity(self, in_flight: int) -> bool: ...

    def submit(self, unit: Unit, job: UnitJob) -> None: ...

    def next_done(self) -> tuple[Unit, UnitOutcome]: ...

    def close(self) -> None: ...


class InlineExecutor:
    """Executes each job immediately, in this process, one at a time."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._done: deque[tuple[Unit, UnitOutcome]] = deque()

    def has_capacity(self, in_flight: int) -> bool:
        return in_flight == 0

    def submit(self, unit: Unit, job: UnitJob) -> None:
        self._done.append((unit, self.workspace.execute(job)))

    def next_done(self) -> tuple[Unit, UnitOutcome]:
        return self._done.popleft()

    def close(self) -> None:
        self._done.clear()


_workspace: Workspace | None = None  # the forked workers' copy of the parent's workspace


def _start_worker(workers: int) -> None:
    # Ctrl-C goes to the whole process group; the parent handles it and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The workers share the cores: Arrow's own thread pool in each would oversubscribe them.
    import pyarrow

    pyarrow.set_cpu_count(max(1, (os.cpu_count() or 1) // workers))


def _execute(job: UnitJob) -> UnitOutcome:
    assert _workspace is not None, "worker started without a workspace"
    return _workspace.execute(job)


def _warm_up() -> None:
    return None


class ProcessExecutor:
    """Executes jobs in `workers` forked processes, for CPU-bound work that holds the GIL."""

    def __init__(self, workspace: Workspace, workers: int) -> None:
        global _workspace
        workspace.shared = True  # the workers write the same storages: hold nothing open
        _workspace = workspace
        self.workers = workers
        self._pool = self._start_pool()
        self._futures: dict[Future[UnitOutcome], Unit] = {}

    def _start_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(self.workers,),
        )
        # Fork every worker now, before the caller starts threads (a progress bar).
        for future in [pool.submit(_warm_up) for _ in range(self.workers)]:
            future.result()
        return pool

    def has_capacity(self, in_flight: int) -> bool:
        # One job queued per worker, so a worker never waits for the runner to dispatch.
        return in_flight < 2 * self.workers

    def submit(self, unit: Unit, job: UnitJob) -> None:
        try:
            future = self._pool.submit(_execute, job)
        except BrokenProcessPool:
            # A worker died (its units were reported failed): start a new pool.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start_pool()
            future = self._pool.submit(_execute, job)
        self._futures[future] = unit

    def next_done(self) -> tuple[Unit, UnitOutcome]:
        done, _ = wait(self._futures, return_when=FIRST_COMPLETED)
        future = done.pop()
        unit = self._futures.pop(future)
        try:
            return unit, future.result()
        except Exception as error:  # the worker process died (killed, out of memory)
            moment = datetime.now(UTC)
            message = f"{describe_unit(*unit)}: the worker process died ({error})"
            return unit, UnitOutcome(moment, moment, 1, 0.0, error=message)

    def close(self) -> None:
        for process in list(getattr(self._pool, "_processes", {}).values()):
            if process.is_alive() and self._futures:
                process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)


def make_executor(workspace: Workspace, workers: int) -> InlineExecutor | ProcessExecutor:
    """Inline for one worker; a process pool for more."""
    if workers <= 1:
        return InlineExecutor(workspace)
    return ProcessExecutor(workspace, workers)
