"""Evaluating automation conditions: pure, (state, now) in, requested partitions out.

Each primitive selects partitions (a boolean per partition index of the asset at now):

- `on_cron`: time partitions ending at or before the latest tick of the schedule at now;
  other assets (unpartitioned, static) when a tick passed since the last evaluation.
- `eager`: partitions whose planner reason is `upstream changed`, those whose reason is
  `upstream stale` when that upstream unit is requested in the same tick (one run
  rebuilds both, in order), and missing partitions that appeared since the last
  evaluation or whose inputs got new data since then.
- `on_missing`: missing partitions.

`&`, `|` and `~` combine the selections. The request is the selected partitions that need
work (any planner reason); a cron tick on an asset without time partitions requests it
even when up to date. A partition reading a partition that holds no data (and is not
requested in the same tick) is left out: it could not run; it is requested at a later
evaluation, once its inputs exist (`eager` sees them as new data). Then `catchup=False`
keeps only the latest partition and `max_catch_up=N` the N newest; the rest come at later
evaluations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from ..definitions.automation import (
    AllOf,
    AnyOf,
    AutomationCondition,
    Eager,
    Not,
    OnCron,
    OnMissing,
)
from ..definitions.partitions import Partitions, TimePartitions
from ..planning.reasons import ReasonKind


@dataclass(frozen=True)
class AutomationCursor:
    """What the last evaluation of an asset saw: when, how many partitions existed, and
    the catalog sequence then (what was published since is new data)."""

    evaluated_at: datetime | None = None
    count: int | None = None
    sequence: int | None = None

    def dumps(self) -> str:
        at = None if self.evaluated_at is None else self.evaluated_at.isoformat()
        return json.dumps({"evaluated_at": at, "count": self.count, "sequence": self.sequence})

    @classmethod
    def loads(cls, text: str | None) -> AutomationCursor:
        if not text:
            return cls()
        data = json.loads(text)
        at = data.get("evaluated_at")
        moment = None if at is None else datetime.fromisoformat(at)
        return cls(moment, data.get("count"), data.get("sequence"))


@dataclass(frozen=True)
class AssetSituation:
    """What the daemon knows about one automated asset at `now`: its partitions, the
    planner's reason kind per partition index (`kinds`, length `count`; one entry when
    unpartitioned), whether the upstream unit behind an `upstream stale` reason is
    requested in this tick, and the asset's cursor."""

    partitions: Partitions | None
    kinds: np.ndarray
    now: datetime
    cursor: AutomationCursor = AutomationCursor()
    upstream_requested: np.ndarray | None = None
    upstream_new: np.ndarray | None = None  # an upstream it reads published since the cursor
    sequence: int | None = None  # the catalog sequence now
    excluded: np.ndarray | None = None  # already requested by a tick still in flight
    inputs_missing: np.ndarray | None = None  # reads a partition with no data, not requested

    @property
    def count(self) -> int:
        return len(self.kinds)


@dataclass(frozen=True)
class AutomationDecision:
    """The partition indices to request (ascending), why each was selected (the
    primitives that selected it), and the asset's next cursor."""

    indices: tuple[int, ...]
    why: tuple[str, ...]
    cursor: AutomationCursor


def evaluate(condition: AutomationCondition, situation: AssetSituation) -> AutomationDecision:
    """The partitions `condition` requests in `situation` (see the module)."""
    selected = _select(condition, situation)
    needs_work = situation.kinds != ReasonKind.UP_TO_DATE
    refresh = not isinstance(situation.partitions, TimePartitions) and any(
        isinstance(c, OnCron) and _cron_fired_since(c, situation) for c in condition.walk()
    )
    requested = selected if refresh else selected & needs_work
    if situation.excluded is not None:
        requested &= ~situation.excluded
    if situation.inputs_missing is not None:  # it could not run: later, once they exist
        requested &= ~situation.inputs_missing
    indices = np.flatnonzero(requested)
    max_catch_up, catchup = condition.limits()
    if not catchup and isinstance(situation.partitions, TimePartitions):
        indices = indices[indices == situation.count - 1]
    if max_catch_up is not None:
        indices = indices[-max_catch_up:]
    primitives = [c for c in condition.walk() if not c.children()]
    masks = [(str(c), _select(c, situation)) for c in primitives]
    why = tuple(
        ", ".join(text for text, mask in masks if mask[i]) or str(condition) for i in indices
    )
    cursor = AutomationCursor(situation.now, situation.count, situation.sequence)
    return AutomationDecision(tuple(int(i) for i in indices), why, cursor)


def _select(condition: AutomationCondition, situation: AssetSituation) -> np.ndarray:
    if isinstance(condition, AllOf):
        masks = [_select(c, situation) for c in condition.conditions]
        return np.logical_and.reduce(masks)
    if isinstance(condition, AnyOf):
        masks = [_select(c, situation) for c in condition.conditions]
        return np.logical_or.reduce(masks)
    if isinstance(condition, Not):
        return ~_select(condition.condition, situation)
    if isinstance(condition, OnMissing):
        return situation.kinds == ReasonKind.MISSING
    if isinstance(condition, Eager):
        return _eager(situation)
    if isinstance(condition, OnCron):
        return _cron(condition, situation)
    raise TypeError(f"unknown automation condition {condition!r}")


def _eager(situation: AssetSituation) -> np.ndarray:
    kinds = situation.kinds
    selected = kinds == ReasonKind.UPSTREAM_CHANGED
    if situation.upstream_requested is not None:
        selected |= (kinds == ReasonKind.UPSTREAM_STALE) & situation.upstream_requested
    if situation.upstream_new is not None:  # never built, and its inputs just got data
        selected |= (kinds == ReasonKind.MISSING) & situation.upstream_new
    previous = situation.cursor.count
    if previous is not None:
        appeared = np.arange(situation.count) >= previous
        selected |= appeared & (kinds == ReasonKind.MISSING)
    return selected


def _cron(condition: OnCron, situation: AssetSituation) -> np.ndarray:
    partitions = situation.partitions
    if isinstance(partitions, TimePartitions):
        tick = latest_tick(condition, situation.now)
        due = 0 if tick is None else partitions.count(tick)
        return np.arange(situation.count) < due
    return np.full(situation.count, _cron_fired_since(condition, situation))


def _cron_fired_since(condition: OnCron, situation: AssetSituation) -> bool:
    """Whether a tick of the schedule fell in (last evaluation, now]."""
    previous = situation.cursor.evaluated_at
    tick = latest_tick(condition, situation.now)
    return previous is not None and tick is not None and tick > previous


def latest_tick(condition: OnCron, now: datetime) -> datetime | None:
    """The latest tick of the schedule at or before `now`, None before any."""
    from zoneinfo import ZoneInfo

    from cronsim import CronSim

    zone = ZoneInfo(condition.timezone)
    start = (now.astimezone(zone) + timedelta(seconds=1)).replace(microsecond=0)
    try:
        tick = next(CronSim(condition.schedule, start, reverse=True))
    except StopIteration:
        return None
    # In UTC: an ambiguous local time (a DST fold) never compares equal across zones.
    return tick.astimezone(UTC)
