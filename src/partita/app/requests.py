"""What a front end asks of a session: small frozen values instead of long signatures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..planning.targets import PartitionRange

# One key, an inclusive (first, last) pair of keys, or None for every partition.
PartitionArgument = str | tuple[str, str] | None


def partition_range(partition: PartitionArgument) -> PartitionRange:
    """The `PartitionRange` of a partition argument (a key, an inclusive pair, or None)."""
    if partition is None:
        return PartitionRange()
    if isinstance(partition, str):
        return PartitionRange.single(partition)
    first, last = partition
    return PartitionRange(first, last)


def selection_tuple(selection: Sequence[str] | str | None) -> tuple[str, ...]:
    """A selection argument (one string, several, or None for every asset) as a tuple."""
    if selection is None:
        return ()
    if isinstance(selection, str):
        return (selection,)
    return tuple(selection)


@dataclass(frozen=True)
class PlanRequest:
    """Which units to consider and how to decide what runs.

    `selection` uses the selection syntax (none means every asset); `partitions` is the
    requested range (everything up to the latest complete partition at `now` by default);
    `now` None means the wall clock. `retry_failed` keeps only units whose last attempt
    failed. `catch_up` adds up-to-date assets that their freshness policy says are overdue;
    `overdue` names such units explicitly, with the reason to run them. `defer_to` names
    an environment whose warehouse the unselected upstream assets are read from. `only` keeps
    just those units of the plan (what a daemon tick requested).
    """

    selection: tuple[str, ...] = ()
    partitions: PartitionRange = field(default_factory=PartitionRange)
    force: bool = False
    now: datetime | None = None
    retry_failed: bool = False
    catch_up: bool = False
    overdue: Mapping[tuple[str, str | None], str] | None = None
    defer_to: str | None = None
    only: frozenset[tuple[str, str | None]] | None = None


@dataclass(frozen=True)
class RunRequest(PlanRequest):
    """A plan request plus how to run it.

    `workers` > 1 runs independent units in parallel processes; `order` is oldest-first
    or newest-first; after `max_failures` failures no new unit starts; a unit another run
    is working on is waited for, or with `wait=False` reported locked. `command` is what
    the run log records as the command that started the run.
    """

    workers: int = 1
    executor: str | None = None  # process, dask or tcp://HOST:PORT; None: the project's
    order: str = "oldest-first"  # or newest-first (`execution.runner.ORDERS`)
    max_failures: int | None = None
    wait: bool = True
    command: str = "materialize (python)"
