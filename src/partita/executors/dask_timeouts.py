"""Timeouts on Dask: the coordinator times each task of an asset with a `timeout` from the
moment its worker announced that the unit began (after loading the project), and stops
one that runs past it.

Dask cannot interrupt a running task (it is a thread of the worker), so stopping it means
stopping its worker process: `stop_task` runs on every worker and the one executing the
task kills itself (a worker started with a nanny, as `dask worker` and a local cluster
do by default, is started again by it; one without a nanny stays down, as after any
crash). Before that the coordinator fences the task: it logs the task's key under
`FENCED_TOPIC`, and a worker checks that topic just before publishing a timed asset's
write (`FencedGuard`), so a task that somehow outlives the stop publishes nothing, even
when its retry runs in the same run and so holds the same lease.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from ..errors import describe_unit
from ..execution.publishing import LeaseGuard, LeaseLostError
from ..execution.unit import UnitJob
from ..graph.graph import AssetGraph

FENCED_TOPIC = "partita-fenced"  # events naming the tasks that may no longer publish


class Deadlines:
    """When each running task of a timed asset must have finished, by task key."""

    def __init__(self, client: Any, graph: AssetGraph, started_topic: str) -> None:
        self._timeouts: dict[str, timedelta] = {
            asset: graph[asset].timeout for asset in graph.order if graph[asset].timeout is not None
        }
        self._started: dict[str, float] = {}  # task key -> monotonic time we heard it start
        if self._timeouts:
            client.subscribe_topic(started_topic, self._heard)

    def _heard(self, event: tuple[float, Any]) -> None:
        # Called in the client's event loop thread, once per task start on the cluster.
        key = event[1]
        if isinstance(key, str):
            self._started.setdefault(key, time.monotonic())

    def is_timed(self, asset: str) -> bool:
        return asset in self._timeouts

    def timeout(self, asset: str) -> timedelta | None:
        return self._timeouts.get(asset)

    def _deadline(self, key: str, job: UnitJob) -> float | None:
        timeout = self._timeouts.get(job.asset)
        began = self._started.get(key)
        if timeout is None or began is None:
            return None
        return began + timeout.total_seconds()

    def wait_s(self, running: Iterable[tuple[str, UnitJob]], cap: float) -> float:
        """Seconds until the first deadline of the `running` (key, job) pairs, at most `cap`."""
        deadlines = [d for key, job in running if (d := self._deadline(key, job)) is not None]
        if not deadlines:
            return cap
        return min(cap, max(0.0, min(deadlines) - time.monotonic()))

    def expired(self, running: Iterable[tuple[str, UnitJob]]) -> list[str]:
        """The keys of the `running` tasks past their deadline."""
        now = time.monotonic()
        return [
            key
            for key, job in running
            if (deadline := self._deadline(key, job)) is not None and deadline <= now
        ]

    def forget(self, key: str) -> None:
        self._started.pop(key, None)


def stop(client: Any, key: str) -> str | None:
    """Fence the task `key`, then stop the worker executing it; that worker's address
    (None when no worker was executing it any more)."""
    client.log_event(FENCED_TOPIC, key)  # returns once the scheduler has it
    answers: Mapping[str, Any] = client.run(stop_task, key, on_error="return")
    return next((address for address, answer in answers.items() if answer is not False), None)


def stop_task(key: str, dask_worker: Any) -> bool:
    """Run on each worker (by `Client.run`): kill this worker process if it is executing
    the task `key`; False when it is not."""
    if not any(task.key == key for task in dask_worker.state.executing):
        return False
    os.kill(os.getpid(), signal.SIGKILL)
    return True  # not reached


class FencedGuard:
    """The worker's publish guard: the run still wants the task, for timed assets the task
    is not fenced, and the run holds the unit's lease.

    The first check keeps a worker from publishing for a coordinator that is gone: killed,
    its leases stay held until they expire or are taken over, so the lease check alone
    would let the unit publish data its run will never record."""

    def __init__(self, lease: LeaseGuard, timed: frozenset[str]) -> None:
        self.lease = lease
        self.timed = timed

    def __call__(self, asset: str, partition: str | None, run_id: str) -> None:
        from distributed import get_client, get_worker

        key = get_worker().get_current_task()
        try:
            refused = get_client().run_on_scheduler(
                publish_refusal, key, asset in self.timed, run_id
            )
        except (OSError, TimeoutError) as error:  # Dask's CommClosedError is an OSError
            refused = (
                f"the Dask scheduler could not be asked whether run {run_id} wants it ({error})"
            )
        if refused is not None:
            raise LeaseLostError(f"{describe_unit(asset, partition)}: not published: {refused}.")
        self.lease(asset, partition, run_id)


def publish_refusal(key: str, timed: bool, run_id: str, dask_scheduler: Any) -> str | None:
    """Run on the scheduler: why the task `key` may not publish, None when it may (one
    round trip answers both checks)."""
    if timed and any(event[1] == key for event in dask_scheduler.get_events(FENCED_TOPIC)):
        return f"it ran past its timeout and run {run_id} stopped waiting for it"
    if not still_wanted(key, dask_scheduler):
        return f"run {run_id} no longer wants it (its coordinator stopped or went away)"
    return None


def still_wanted(key: str, dask_scheduler: Any) -> bool:
    """Run on the scheduler: whether a client still holds the task `key`. Not when the
    coordinator that submitted it cancelled it (Ctrl-C, a timeout) or went away (killed,
    cut off): the scheduler then released it, though its worker thread runs on."""
    task = dask_scheduler.tasks.get(key)
    return task is not None and bool(task.who_wants)
