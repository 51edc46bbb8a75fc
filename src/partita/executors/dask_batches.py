"""Batches of units on Dask: one Dask task runs several ready units in order.

Dask's cost is per task (the graph update, the scheduler's transitions, the messages to
the worker and back, the client's bookkeeping): several milliseconds, as much as a small
unit's own work. The coordinator keeps units it submits in a queue and sends them as one
task of up to `BATCH` units when enough have gathered, or at once when the workers would
otherwise run out of queued work. A unit of an asset with a `timeout` always runs alone,
so its task can be timed and stopped by itself (`dask_timeouts`).

The worker reports each unit's outcome as it finishes, before the next one begins
(`dask_task.run_jobs`), so units settle one by one, in order, from the front of their batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..execution.unit import UnitJob
from ..planning.staleness import Unit

BATCH = 4  # units per Dask task at most
CAUTIOUS_DEPTH = 2  # units in flight per worker with --max-failures (as local processes)


@dataclass
class Batch:
    """The units one Dask task runs, in order; the first `done` have settled."""

    key: str
    items: list[tuple[Unit, UnitJob]]
    future: Any = None
    done: int = 0

    @property
    def remaining(self) -> list[tuple[Unit, UnitJob]]:
        return self.items[self.done :]


def take(
    pending: list[tuple[Unit, UnitJob]], timed: Callable[[str], bool], size: int
) -> list[tuple[Unit, UnitJob]]:
    """Remove and return the next batch from the front of `pending`: a timed unit alone,
    else up to `size` consecutive untimed units."""
    if timed(pending[0][1].asset):
        return [pending.pop(0)]
    count = 1
    while count < min(size, len(pending)) and not timed(pending[count][1].asset):
        count += 1
    batch = pending[:count]
    del pending[:count]
    return batch


def batch_key(items: list[tuple[Unit, UnitJob]]) -> str:
    """A task key naming the first unit, the batch's size and its run (unique)."""
    job = items[0][1]
    more = f"+{len(items) - 1}" if len(items) > 1 else ""
    return f"partita-{job.asset}-{job.partition or ''}{more}-{job.run_id}-{uuid.uuid4().hex[:8]}"
