"""The executor interface: where unit jobs run, behind one small protocol.

The runner leases a unit, builds its `UnitJob` (which names everything needed to run it:
project root, asset, partition, code version, run, reads) and submits it; the executor
hands back each job's `UnitOutcome` as it finishes. Executors never touch the catalog:
the runner records every outcome in its own process.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..execution.unit import UnitJob, UnitOutcome
from ..planning.staleness import Unit


class Executor(Protocol):
    """Runs unit jobs and hands back their outcomes as they finish.

    Contract (tests/executors/contract): every submitted job yields exactly one outcome
    from `next_done`; a job that crashes its process fails alone, naming its unit; after
    `close` no process the executor started is alive.
    """

    def has_capacity(self, in_flight: int) -> bool:
        """Whether to submit another job while `in_flight` jobs have no outcome yet."""
        ...

    def submit(self, unit: Unit, job: UnitJob) -> None:
        """Start (or queue) the job of `unit`."""
        ...

    def next_done(self) -> tuple[Unit, UnitOutcome]:
        """Wait for a submitted job to finish; its unit and outcome."""
        ...

    def close(self) -> None:
        """Stop every process the executor started; jobs without an outcome are abandoned
        (not published: their run's leases are released first)."""
        ...


@runtime_checkable
class WaitingExecutor(Protocol):
    """An executor that can stop waiting for an outcome after a while, so the runner can
    offer again units waiting for a pool slot or a lease another process holds, while its
    own jobs still run. Executors without it make those units wait for one of their jobs."""

    def next_done_within(self, timeout: float) -> tuple[Unit, UnitOutcome] | None:
        """Like `next_done`, but None when no job finished within `timeout` seconds."""
        ...
