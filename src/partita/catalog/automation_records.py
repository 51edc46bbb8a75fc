"""Plain data of the automation role of the catalog: daemon ticks and process holders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from partita.processes import ProcessIdentity, this_host


class TickStatus(StrEnum):
    """Where a tick is: its requests recorded and not yet launched, launched by a run
    process, or finished (nothing requested, or its run ended)."""

    REQUESTED = "requested"
    LAUNCHED = "launched"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class RequestedUnit:
    """One unit a tick requested, which conditions or sensor asked for it, and whether it
    runs even when up to date (an observation, a sensor request, a cron refresh)."""

    asset: str
    partition: str | None
    why: str
    force: bool = False


@dataclass(frozen=True, slots=True)
class Holder:
    """The process holding something (the daemon lease, a pool slot, a launched tick)."""

    host: str
    pid: int
    process_start: int | None = None
    boot_id: str | None = None


@dataclass(frozen=True, slots=True)
class DaemonLease:
    """Who holds the daemon lease, and when it last refreshed it."""

    holder: Holder
    heartbeat: datetime


@dataclass(frozen=True, slots=True)
class TickRecord:
    """One evaluation of the daemon: its evaluation time `at`, what it evaluated (assets,
    sources, sensors), what it requested and why, the runs it started, and an error (a
    sensor that raised, a launch that failed)."""

    tick_id: int
    at: datetime
    status: TickStatus
    evaluated: tuple[str, ...]
    requested: tuple[RequestedUnit, ...]
    run_ids: tuple[str, ...] = ()
    error: str | None = None
    launcher: Holder | None = None


@dataclass(frozen=True, slots=True)
class PoolSlot:
    """A unit holding one slot of a concurrency pool."""

    pool: str
    asset: str
    partition: str | None
    run_id: str
    holder: Holder


def current_holder() -> Holder:
    """This process, as a holder."""
    me = ProcessIdentity.current()
    return Holder(me.host, me.pid, me.start_time, me.boot)


def holder_is_dead(holder: Holder, heartbeat: str | None, now: datetime, stale: float) -> bool:
    """Whether a holder's process is gone (see the module)."""
    age = 0.0 if heartbeat is None else (now - datetime.fromisoformat(heartbeat)).total_seconds()
    if holder.host != this_host():
        return age > stale
    identity = ProcessIdentity(holder.host, holder.pid, holder.process_start, holder.boot_id)
    if not identity.is_alive():
        return True
    return holder.process_start is None and age > stale
