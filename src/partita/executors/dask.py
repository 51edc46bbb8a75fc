"""The Dask executor: unit jobs run on a Dask cluster, a local one started for the run
(`--executor dask`) or an existing scheduler (`--executor tcp://HOST:PORT`).

The coordinator stays the only judge of readiness and the only catalog writer: the runner
leases each unit, this executor sends its self-contained `UnitJob` to Dask, in one task
with other ready units (`dask_batches`, `dask_task.run_jobs`), and the runner records
each outcome as its unit finishes. Workers load the project from
the job's root (a folder they see at the same path), `PARTITA_PROJECT_ROOT` or the
project installed as a package (`PARTITA_PROJECT_MODULE`, see `partita.packaged`) and
refuse a job planned with another code version.

Guarantees, and how:
- Dask never re-runs a unit behind partita's back: the scheduler must have
  `distributed.scheduler.allowed-failures` 0 (set for a local cluster; checked on an
  existing scheduler, which is refused otherwise). A worker that dies mid-unit fails the
  task with KilledWorker; the unit then fails, or runs again when its `Retry` allows.
  A task claims its start on the scheduler, and reports each unit's outcome there before
  the next unit begins (`dask_task`), so exactly one unit of a dead worker's task had
  begun: the first without an outcome. The units after it, and those of tasks only
  queued there (no claim), are sent again without counting an attempt: nothing of them
  ran. A task Dask computes again (its result died with its worker) finds its claim and
  runs nothing: its units take the outcomes they reported, or fail.
- A task publishes only while its run holds the unit's lease: the worker checks the lease
  in the catalog just before the write's rename or commit (`LeaseGuard`), so a task that
  outlives its run (the scheduler or the coordinator gone) publishes nothing.
- A scheduler that goes away fails the run with `ClusterError`; the runner then releases
  every lease of the run.
- A unit of an asset with a `timeout` that runs past it fails with `timed out after ...`
  (or runs again per its `Retry`): the coordinator fences its task and stops the worker
  process executing it (`dask_timeouts`).
- A DuckDB file is one local file that one process opens at a time, which remote workers
  may not see: its units are computed on the workers, but the coordinator reads the DuckDB
  upstreams a job needs and sends them with it, and writes what the worker computed into
  the file it holds for the run (`Workspace.with_inputs`, `Workspace.finish`).
"""

from __future__ import annotations

import logging
import pickle
import queue
import time
from collections import Counter, deque
from concurrent.futures import CancelledError
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, NoReturn
from urllib.parse import urlsplit

from ..definitions.policies import NO_RETRY, format_duration
from ..errors import EXIT_FAILED, PartitaError, UsageError, describe_unit
from ..execution.unit import UnitJob, UnitOutcome, Workspace, failed_outcome
from ..planning.staleness import Unit
from ..urls import redact, without_password
from .dask_batches import BATCH, CAUTIOUS_DEPTH, Batch, batch_key, take
from .dask_task import OUTCOME_TOPIC, RAN_BEFORE, RUNNING_TOPIC, began, run_jobs
from .dask_timeouts import Deadlines, stop

log = logging.getLogger("partita")

LOCAL = "dask"
SCHEDULER_SCHEMES = ("tcp", "tls")
CONNECT_TIMEOUT_S = 10  # also how long a lost scheduler is waited for
POLL_S = 0.5  # how often a wait for outcomes checks that the scheduler is still there
NO_WORKERS_S = 20.0  # how long units may wait on a scheduler without workers
# A local cluster: no re-run behind partita's back; no statistical profiler sampling every
# worker thread each 10 ms, and the event loops' health check and the nannies' memory
# check each 500 ms instead of 20 and 100 ms (they cost the coordinator's process, which
# holds the scheduler and the nannies, about a fifth of its event loop's time).
LOCAL_CONFIG = {
    "distributed.scheduler.allowed-failures": 0,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.worker.memory.monitor-interval": "500ms",
}


class ClusterError(PartitaError):
    """The Dask cluster could not be reached, or went away during the run."""

    exit_code = EXIT_FAILED


def check_executor(kind: str) -> str | None:
    """The scheduler address of an executor setting; None for a local cluster."""
    if kind == LOCAL:
        return None
    if urlsplit(kind).scheme in SCHEDULER_SCHEMES:
        return kind
    raise UsageError(
        f"unknown executor {kind!r}: use 'process' (local processes), 'dask' (a local Dask"
        " cluster of --workers processes) or 'tcp://HOST:PORT' (an existing Dask scheduler)."
    )


class DaskExecutor:
    """Executes unit jobs as Dask tasks (see the module)."""

    def __init__(
        self,
        workspace: Workspace,
        workers: int,
        address: str | None,
        catalog: str | None,
        cautious: bool = False,
    ) -> None:
        if workspace.root is None:
            raise UsageError(
                "running units on Dask needs a project loaded from its folder (load_project),"
                " so that each worker can load it too."
            )
        self.workspace = workspace
        self._root = str(workspace.root)
        self._catalog = None if catalog is None else without_password(catalog)
        self._where = "a local Dask cluster" if address is None else f"the Dask scheduler {address}"
        self._cluster: Any = None
        # The client reports a lost scheduler as logged tracebacks, some after the run
        # closed it; the run reports it as one ClusterError instead (--debug shows them).
        _quiet_dask_logs()
        self._client: Any = _connect(address, workers, self)
        self._slots = workers if address is None else self._worker_count()
        # With --max-failures, as few units in flight as local processes have, so that
        # the breaker stops as many as it can; else batches (see `dask_batches`).
        self._batch = 1 if cautious else BATCH
        self._depth = CAUTIOUS_DEPTH if cautious else 2 * BATCH
        self._pending: list[tuple[Unit, UnitJob]] = []  # submitted, not yet sent to Dask
        self._batches: dict[str, Batch] = {}  # sent, by task key
        self._deaths: Counter[Unit] = Counter()
        self._done: deque[tuple[Unit, UnitOutcome]] = deque()
        self._workerless_since: float | None = None
        self._deadlines = Deadlines(self._client, workspace.graph, RUNNING_TOPIC)
        # Outcomes pushed by the scheduler as workers log them (by task key and position
        # in the batch), and finished tasks: each wakes `next_done`.
        self._outcomes: dict[tuple[str, int], bytes] = {}
        self._wake: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._client.subscribe_topic(OUTCOME_TOPIC, self._heard_outcome)

    def _worker_count(self) -> int:
        return max(1, len(self._client.scheduler_info().get("workers", {})))

    def has_capacity(self, in_flight: int) -> bool:
        return in_flight < self._depth * self._slots

    def submit(self, unit: Unit, job: UnitJob) -> None:
        try:
            job = self.workspace.with_inputs(job)
        except Exception as error:  # the coordinator could not read what the worker needs
            self._done.append((unit, failed_outcome(job, error)))
            return
        self._pending.append((unit, job))

    def _flush(self) -> None:
        """Send the pending units as full batches; when less than a batch per worker is
        left to run, send them all, spread over the workers (none waits for the
        coordinator, and a small run still uses every worker)."""
        if not self._pending:
            return
        short = self._outstanding() < self._slots * self._batch
        size = min(self._batch, -(-len(self._pending) // self._slots)) if short else self._batch
        while self._pending and (short or len(self._pending) >= size):
            items = take(self._pending, self._deadlines.is_timed, size)
            key = batch_key(items)
            batch = Batch(key, items)
            self._batches[key] = batch
            batch.future = self._client.submit(
                run_jobs, [job for _, job in items], self._catalog, pure=False, retries=0, key=key
            )
            batch.future.add_done_callback(self._wake.put)

    def _outstanding(self) -> int:
        return sum(len(batch.items) - batch.done for batch in self._batches.values())

    def _heard_outcome(self, event: tuple[float, Any]) -> None:
        # Called in the client's event loop thread, for every unit of the cluster.
        message = event[1]
        if isinstance(message, dict) and message.get("key") in self._batches:
            self._outcomes[(message["key"], message["index"])] = message["outcome"]
            self._wake.put(message["key"])

    def next_done(self) -> tuple[Unit, UnitOutcome]:
        while not self._done:
            self._flush()
            running = self._timed_running()
            self._stop_timed_out(running)  # on every turn: a busy queue never times out
            if self._done:
                break
            try:
                woken = self._wake.get(timeout=self._deadlines.wait_s(running, POLL_S))
            except queue.Empty:
                self._check_scheduler()
                continue
            try:
                if isinstance(woken, str):
                    self._settle_heard(woken)
                else:
                    self._settle(woken)
            except (CancelledError, OSError) as error:  # the client lost the scheduler
                self._lost(_first_line(error))
        return self._done.popleft()

    def _timed_running(self) -> list[tuple[str, UnitJob]]:
        return [
            (key, batch.items[0][1])
            for key, batch in self._batches.items()
            if batch.done == 0 and self._deadlines.is_timed(batch.items[0][1].asset)
        ]

    def _check_scheduler(self) -> None:
        if self._client.status not in ("running", "connecting", "newly-created"):
            self._lost(f"the client's connection is {self._client.status}")
        if not self._batches or self._client.scheduler_info().get("workers"):
            self._workerless_since = None
            return
        now = time.monotonic()
        if self._workerless_since is None:
            self._workerless_since = now
        elif now - self._workerless_since > NO_WORKERS_S:
            self._lost(
                "a worker started with --no-nanny stays down after partita stops it for a timeout",
                f"has had no workers for {NO_WORKERS_S:g} s",
            )

    def _lost(self, why: str, what: str = "went away during the run") -> NoReturn:
        jobs = [job for batch in self._batches.values() for _, job in batch.remaining]
        units = ", ".join(describe_unit(j.asset, j.partition) for j in jobs)
        raise ClusterError(
            f"{self._where} {what} ({why}); the units it was running"
            f" ({units or 'none'}) were not recorded as materialized and their leases are"
            " released. Start the scheduler and workers again (or use --executor process),"
            " then run the same command: it does what remains."
        )

    def _stop_timed_out(self, running: list[tuple[str, UnitJob]]) -> None:
        """Fence and stop each task past its asset's timeout; fail or retry its unit."""
        for key in self._deadlines.expired(running):
            batch = self._retire(key)
            if batch is None:
                continue
            [(unit, job)] = batch.items
            where = stop(self._client, key)
            self._client.cancel([batch.future], force=True)
            timeout = format_duration(self._deadlines.timeout(job.asset))
            worker = "its Dask worker" if where is None else f"its Dask worker, {where},"
            self._attempt_lost(
                unit,
                job,
                f"{describe_unit(job.asset, job.partition)}: timed out after {timeout}"
                f" ({worker} was stopped)",
                "Make it faster, or give it a longer timeout= (or [tool.partita] timeout).",
            )

    def _retire(self, key: str) -> Batch | None:
        """Forget the task `key`; its batch (None when already forgotten)."""
        self._deadlines.forget(key)
        batch = self._batches.pop(key, None)
        if batch is not None:
            for index in range(len(batch.items)):
                self._outcomes.pop((key, index), None)
        return batch

    def _settle_heard(self, key: str) -> None:
        """Settle the units of the task `key` whose outcome arrived, in order."""
        batch = self._batches.get(key)
        while batch is not None and (key, batch.done) in self._outcomes:
            self._settle_unit(batch, pickle.loads(self._outcomes.pop((key, batch.done))))

    def _settle_unit(self, batch: Batch, outcome: UnitOutcome) -> None:
        unit, job = batch.items[batch.done]
        batch.done += 1
        outcome = self.workspace.finish(job, outcome)
        deaths = self._deaths.pop(unit, 0)
        if deaths:
            outcome = replace(outcome, attempts=outcome.attempts + deaths)
        self._done.append((unit, outcome))

    def _settle(self, future: Any) -> None:
        batch = self._batches.get(future.key)
        if batch is None or batch.future is not future:  # stopped for its timeout
            return
        self._settle_heard(future.key)
        status = future.status
        if status == "finished":
            if batch.remaining:  # their outcomes did not arrive as events: fetch them
                result = future.result()
                if result == RAN_BEFORE:
                    self._settle_ran_before(future.key, batch)
                elif len(result) < len(batch.items):  # cut short: the task was not wanted
                    self._lost(f"task {future.key} stopped before all its units ran")
                for index in range(batch.done, len(batch.items)):
                    self._settle_unit(batch, result[index])
            self._retire(future.key)
        elif status == "error":
            self._retire(future.key)
            self._errored(future, batch)
        elif not batch.remaining:  # its result died with a worker, but every unit reported
            self._retire(future.key)
        elif status == "lost":  # Dask computes it again: it finds its claim and runs nothing
            future.add_done_callback(self._wake.put)
        else:  # cancelled: the scheduler forgot it
            self._lost(f"task {future.key} was {status}")

    def _settle_ran_before(self, key: str, batch: Batch) -> None:
        """Dask computed the task `key` again (its first worker left with the result): the
        units that reported take their outcomes; the first that did not had begun and
        fails; those after it never began and are sent again without an attempt."""
        while batch.remaining:
            recorded = self._outcome_event(key, batch.done)
            if recorded is None:
                break
            self._settle_unit(batch, recorded)
        if batch.remaining:
            _, job = self._begun_only(batch)
            self._settle_unit(batch, self._recorded_outcome(key, batch.done, job))

    def _begun_only(self, batch: Batch) -> tuple[Unit, UnitJob]:
        """The first unit of `batch` without an outcome, which had begun; the units after
        it never did, and are sent again (in order, first) without counting an attempt."""
        first, later = batch.remaining[0], batch.remaining[1:]
        self._pending[:0] = later
        del batch.items[batch.done + 1 :]
        return first

    def _errored(self, future: Any, batch: Batch) -> None:
        from distributed import KilledWorker

        error = future.exception()
        if not isinstance(error, KilledWorker):
            for unit, job in batch.remaining:
                label = describe_unit(job.asset, job.partition)
                self._fail(
                    unit, f"{label} failed on a Dask worker: {type(error).__name__}: {error}"
                )
            return
        if not batch.remaining:  # every unit reported; only the task's end was lost
            return
        if not self._began(future.key):  # queued on the dead worker: nothing of it ran
            self._pending[:0] = batch.remaining
            return
        finished = self._outcome_event(future.key, batch.done)
        if finished is not None:  # it finished there; only the report of it was lost
            self._settle_unit(batch, finished)
        if not batch.remaining:
            return
        unit, job = self._begun_only(batch)
        self._attempt_lost(
            unit,
            job,
            f"the Dask worker running {describe_unit(job.asset, job.partition)} died ({error})",
            "Only this unit failed and nothing of it was recorded as materialized; the crash"
            " is in the asset's code, a library it calls or the worker's machine (memory)."
            " Fix it and run again.",
        )

    def _attempt_lost(self, unit: Unit, job: UnitJob, message: str, advice: str) -> None:
        """An attempt ended without an outcome (its worker died or was stopped): run the
        unit again when its `Retry` allows another attempt, else fail it."""
        self._deaths[unit] += 1
        retry = self.workspace.graph[job.asset].retry or NO_RETRY
        if self._deaths[unit] < retry.max_attempts:
            log.warning(
                "%s; attempt %d/%d, running it again",
                message,
                self._deaths[unit],
                retry.max_attempts,
            )
            self._pending.insert(0, (unit, job))
            return
        self._fail(unit, f"{message}. {advice}")

    def _outcome_event(self, key: str, index: int) -> UnitOutcome | None:
        """The outcome unit `index` of the task `key` sent as an event when it finished,
        if it did (asked of the scheduler: only after a worker died)."""
        for _, message in self._client.get_events(OUTCOME_TOPIC):
            if not isinstance(message, dict):
                continue
            if message.get("key") == key and message.get("index") == index:
                return pickle.loads(message["outcome"])
        return None

    def _recorded_outcome(self, key: str, index: int, job: UnitJob) -> UnitOutcome:
        """The outcome a unit sent before its worker died with its task's result (Dask
        then ran the task again, which refused); a failure when it sent none."""
        recorded = self._outcome_event(key, index)
        if recorded is not None:
            return recorded
        moment = datetime.now(UTC)
        message = (
            f"{describe_unit(job.asset, job.partition)}: the Dask worker that ran it died"
            " before its result reached partita, so it is not recorded as materialized. Run"
            " the command again to rebuild it if it is still missing."
        )
        return UnitOutcome(moment, moment, 1, 0.0, error=message)

    def _began(self, key: str) -> bool:
        return bool(self._client.run_on_scheduler(began, [key]))

    def _fail(self, unit: Unit, message: str) -> None:
        moment = datetime.now(UTC)
        attempts = self._deaths.pop(unit, 0)
        self._done.append((unit, UnitOutcome(moment, moment, attempts, 0.0, error=message)))

    def close(self) -> None:
        """Cancel what is in flight (a running task then publishes nothing: its run's
        leases are released), disconnect, and stop the local cluster if we started one."""
        futures = [batch.future for batch in self._batches.values()]
        self._batches, self._pending = {}, []
        try:
            if futures and self._client.status == "running":
                self._client.cancel(futures, force=True)
        finally:
            self._client.close()
            if self._cluster is not None:
                self._cluster.close()
                self._cluster = None


def _connect(address: str | None, workers: int, executor: DaskExecutor) -> Any:
    """A client of a new local cluster (kept on `executor`) or of the scheduler at
    `address`, whose allowed failures must be 0."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise UsageError(
            "the Dask executor needs dask and distributed: install partita with the extra"
            f" 'dask' (pip install 'partita[dask]'). ({error})"
        ) from error
    if address is None:
        with dask.config.set(LOCAL_CONFIG):
            executor._cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
            )
        return Client(executor._cluster)
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as error:
        raise ClusterError(
            f"could not reach the Dask scheduler at {redact(address)}: {error}. Start it"
            " (dask scheduler) and its workers, or use --executor process."
        ) from error
    allowed = client.run_on_scheduler(_allowed_failures)
    if allowed != 0:
        client.close()
        raise UsageError(
            f"the Dask scheduler at {address} would run a task again after a worker dies"
            f" (allowed-failures is {allowed}), behind partita's back. Start it with"
            " DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=0."
        )
    return client


def _allowed_failures(dask_scheduler: Any) -> int:
    return dask_scheduler.allowed_failures


def _quiet_dask_logs() -> None:
    """Raise the log level of distributed (and its children that set their own) for the
    rest of this process, unless partita logs at DEBUG."""
    if log.isEnabledFor(logging.DEBUG):
        return
    import distributed  # noqa: F401  (its import sets its loggers' levels: set ours after)

    for name in ("distributed", "tornado", *logging.root.manager.loggerDict):
        if name.split(".")[0] in ("distributed", "tornado"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
