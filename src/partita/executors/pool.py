"""The local process pool: one worker process and one pipe per worker, so the pool knows
which job each worker holds.

Jobs are self-contained (`UnitJob` names the project root and code version): a worker
loads the project itself, so workers start with `spawn` by default, a fresh interpreter
that inherits no threads, locks or open connections from the coordinator (`fork` would
copy the heartbeat thread's and SQLite's state mid-use) and whose parent is the
coordinator itself (under `forkserver` the parent is the fork server, which would delay
the parent-death signal). Starting costs one interpreter and one project load per
worker per run.

When a worker dies (a segfault, the OOM killer), only the job it was running fails,
with the signal in the error, or runs again if the asset's `Retry` allows another
attempt; the job queued behind it goes to another worker, and a new worker replaces it.
A job running longer than its asset's `timeout` is stopped the same way: its worker is
killed (nothing it was writing is published: writes publish atomically, at their end) and
the job fails with `timed out after 10m`, or runs again as its `Retry` allows. A job run
again waits its `Retry` delay first, as any retry does, without holding up other jobs.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import random
import signal
import sys
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from ..definitions.policies import NO_RETRY, format_duration
from ..errors import UsageError, describe_unit
from ..execution.unit import UnitJob, UnitOutcome, Workspace, failed_outcome
from ..planning.staleness import Unit
from .worker import DONE, STARTED, serve

log = logging.getLogger("partita")

DEFAULT_START_METHOD = "spawn"
START_METHODS = ("spawn", "fork")  # forkserver: the getppid check would refuse its workers
STOP_TIMEOUT_S = 10.0  # how long a stopping worker may take before it is killed
MAX_STARTUP_DEATHS = 3  # workers dying before starting any job: the queued jobs fail


@dataclass
class _Worker:
    process: BaseProcess
    connection: Connection
    liveness: Connection  # never written; closing it tells the worker to stop
    jobs: list[int] = field(default_factory=list)  # sent to it, in the order it takes them
    running: int | None = None
    started_any: bool = False


class ProcessExecutor:
    """Executes jobs in `workers` processes, for CPU-bound work that holds the GIL."""

    def __init__(
        self, workspace: Workspace, workers: int, start_method: str = DEFAULT_START_METHOD
    ) -> None:
        if workspace.root is None:
            raise UsageError(
                "running units in worker processes needs a project loaded from its folder "
                "(load_project), so that each worker can load it too; use workers=1."
            )
        if start_method not in START_METHODS:
            raise UsageError(f"start method must be one of {', '.join(START_METHODS)}")
        self.workers = workers
        self._workspace = workspace
        self._root = str(workspace.root)
        self._env = workspace.env
        self._graph = workspace.graph
        self._context = multiprocessing.get_context(start_method)
        self._ids = itertools.count()
        self._jobs: dict[int, tuple[Unit, UnitJob]] = {}
        self._deaths: Counter[Unit] = Counter()  # worker deaths while running the unit
        self._startup_deaths = 0
        self._done: deque[tuple[Unit, UnitOutcome]] = deque()
        self._deadlines: dict[int, float] = {}  # running job id -> monotonic deadline
        self._retries: dict[int, float] = {}  # job id to run again -> monotonic start time
        self._pool: list[_Worker] = [self._start_worker() for _ in range(workers)]

    def _start_worker(self) -> _Worker:
        ours, theirs = self._context.Pipe()
        alive_read, alive_write = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=serve,
            args=(theirs, alive_read, os.getpid(), self.workers, self._root, self._env),
            name="partita-worker",
            daemon=True,
        )
        with _main_module_hidden():
            process.start()
        theirs.close()  # the worker's ends live in the worker only: EOF means it is gone
        alive_read.close()
        return _Worker(process, ours, alive_write)

    def has_capacity(self, in_flight: int) -> bool:
        # One job queued per worker, so a worker never waits for the runner to dispatch.
        return in_flight < 2 * self.workers

    def submit(self, unit: Unit, job: UnitJob) -> None:
        try:
            job = self._workspace.with_inputs(job)
        except Exception as error:  # the coordinator could not read what the worker needs
            self._done.append((unit, failed_outcome(job, error)))
            return
        job_id = next(self._ids)
        self._jobs[job_id] = (unit, job)
        self._send(job_id)

    def _send(self, job_id: int) -> None:
        worker = min(self._pool, key=lambda w: len(w.jobs))
        worker.jobs.append(job_id)
        # If the worker died, its sentinel is ready and the job is handed on then.
        with contextlib.suppress(OSError):
            worker.connection.send((job_id, self._jobs[job_id][1]))

    def next_done(self) -> tuple[Unit, UnitOutcome]:
        done = self._next_done(None)
        assert done is not None
        return done

    def next_done_within(self, timeout: float) -> tuple[Unit, UnitOutcome] | None:
        """The next outcome, or None when no job finished within `timeout` seconds."""
        return self._next_done(time.monotonic() + timeout)

    def _next_done(self, until: float | None) -> tuple[Unit, UnitOutcome] | None:
        while not self._done:
            if until is not None and time.monotonic() >= until:
                return None
            handles = {}
            for worker in self._pool:
                handles[worker.connection] = worker
                handles[worker.process.sentinel] = worker
            ready = wait(list(handles), timeout=self._until_deadline(until))
            for handle in ready:
                worker = handles[handle]
                if worker in self._pool:
                    self._serve(worker, died=handle is worker.process.sentinel)
            if not ready:
                self._stop_timed_out()
            self._send_due_retries()
        return self._done.popleft()

    def _until_deadline(self, until: float | None = None) -> float | None:
        """Seconds until the first running job's timeout, the first retry's start or
        `until` (None: none of them)."""
        moments = [*self._deadlines.values(), *self._retries.values()]
        if until is not None:
            moments.append(until)
        if not moments:
            return None
        return max(0.0, min(moments) - time.monotonic())

    def _retry_later(self, job_id: int, delay: float) -> None:
        self._retries[job_id] = time.monotonic() + delay

    def _send_due_retries(self) -> None:
        now = time.monotonic()
        for job_id in [j for j, start in self._retries.items() if start <= now]:
            del self._retries[job_id]
            self._send(job_id)

    def _stop_timed_out(self) -> None:
        """Kill the worker of each job past its timeout; fail or retry the job."""
        now = time.monotonic()
        for worker in list(self._pool):
            job_id = worker.running
            if job_id is None or self._deadlines.get(job_id, now + 1) > now:
                continue
            _, job = self._jobs[job_id]
            timeout = format_duration(self._graph[job.asset].timeout)
            worker.process.kill()
            self._replace(worker, cause=f"timed out after {timeout}")

    def _serve(self, worker: _Worker, died: bool) -> None:
        """Take the worker's messages; on EOF or death, replace it."""
        try:
            while worker.connection.poll():
                self._receive(worker, worker.connection.recv())
        except (EOFError, OSError):
            died = True
        if died:
            self._replace(worker)

    def _receive(self, worker: _Worker, message: tuple) -> None:
        if message[0] == STARTED:
            worker.running = message[1]
            worker.started_any = True
            self._startup_deaths = 0
            timeout = self._graph[self._jobs[message[1]][1].asset].timeout
            if timeout is not None:
                self._deadlines[message[1]] = time.monotonic() + timeout.total_seconds()
            return
        assert message[0] == DONE, message
        job_id, outcome = message[1], message[2]
        worker.jobs.remove(job_id)
        worker.running = None
        self._deadlines.pop(job_id, None)
        unit, job = self._jobs.pop(job_id)
        outcome = self._workspace.finish(job, outcome)
        deaths = self._deaths.pop(unit, 0)
        if deaths:
            outcome = replace(outcome, attempts=outcome.attempts + deaths)
        self._done.append((unit, outcome))

    def _replace(self, worker: _Worker, cause: str | None = None) -> None:
        """A worker died (or its pipe broke, which makes it as good as dead, or its job
        timed out: `cause`): fail (or retry) the job it was running, hand on its queued
        ones."""
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join()
        _close(worker)
        self._pool.remove(worker)
        self._pool.append(self._start_worker())
        if worker.running is not None:
            self._deadlines.pop(worker.running, None)
        timed_out = cause is not None
        cause = cause or _death_cause(worker.process.exitcode)
        if not worker.started_any:
            self._startup_deaths += 1
        for job_id in worker.jobs:
            if job_id == worker.running:
                self._running_job_died(job_id, worker.process.pid, cause, timed_out)
            elif self._startup_deaths >= MAX_STARTUP_DEATHS:
                _, job = self._jobs[job_id]
                self._fail(
                    job_id,
                    f"{describe_unit(job.asset, job.partition)}: not run: worker processes keep "
                    f"dying before running any job (the last died with {cause}). Run it with "
                    "--workers 1 to see the error.",
                )
            else:
                self._send(job_id)

    def _running_job_died(
        self, job_id: int, pid: int | None, cause: str, timed_out: bool = False
    ) -> None:
        unit, job = self._jobs[job_id]
        self._deaths[unit] += 1
        retry = self._graph[job.asset].retry or NO_RETRY
        label = describe_unit(job.asset, job.partition)
        message = f"the worker process running {label} died with {cause} (pid {pid})"
        if timed_out:
            message = f"{label}: {cause} (its worker process, pid {pid}, was stopped)"
        if self._deaths[unit] < retry.max_attempts:
            delay = retry.delay(self._deaths[unit])
            if retry.jitter:
                delay *= random.uniform(0.5, 1.0)
            log.warning(
                "%s; attempt %d/%d, running it again in %.2f s",
                message,
                self._deaths[unit],
                retry.max_attempts,
                delay,
            )
            self._retry_later(job_id, delay)
            return
        advice = (
            "Make it faster, or give it a longer timeout= (or [tool.partita] timeout)."
            if timed_out
            else "Only this unit failed; the crash is in the asset's code or a library it "
            "calls (a native extension, memory). Fix it and run again."
        )
        self._fail(job_id, f"{message}. {advice}")

    def _fail(self, job_id: int, message: str) -> None:
        unit, _ = self._jobs.pop(job_id)
        moment = datetime.now(UTC)
        attempts = self._deaths.pop(unit, 0)
        self._done.append((unit, UnitOutcome(moment, moment, attempts, 0.0, error=message)))

    def close(self) -> None:
        """Stop every worker: ask, wait, then kill. With jobs in flight (an interrupt),
        terminate at once; no worker outlives this call."""
        interrupted = bool(self._jobs)
        for worker in self._pool:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
            worker.liveness.close()
            if interrupted and worker.process.is_alive():
                worker.process.terminate()
        for worker in self._pool:
            worker.process.join(STOP_TIMEOUT_S)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            _close(worker)
        self._pool.clear()
        self._jobs.clear()


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start a worker without it re-importing the coordinator's `__main__`: jobs carry all
    a worker needs, and a script calling `materialize(workers=2)` without an
    `if __name__ == "__main__":` guard would otherwise run itself again in each worker."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    names = ("__spec__", "__file__")
    saved = {name: vars(main)[name] for name in names if name in vars(main)}
    main.__spec__ = None  # read by the spawn preparation; None: not run as a module
    if "__file__" in saved:
        del main.__file__
    try:
        yield
    finally:
        for name in names:
            if name in saved:
                setattr(main, name, saved[name])
            else:
                vars(main).pop(name, None)


def _close(worker: _Worker) -> None:
    worker.connection.close()
    worker.liveness.close()


def _death_cause(exitcode: int | None) -> str:
    """`SIGSEGV` for a worker killed by a signal, else `exit code N`."""
    if exitcode is not None and exitcode < 0:
        try:
            return signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit code {exitcode}"
