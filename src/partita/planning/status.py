"""Status: per asset, how many targeted partitions are fresh, stale, missing or failed.

Counted over the plan's reason kinds, and summarized as runs of consecutive partitions in
one state, so a status over millions of partitions makes objects only for the partitions
that need work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from ..catalog.records import CheckResult, FailedCheck
from ..definitions.asset import AssetDefinition
from ..definitions.partitions import MultiPartitions
from .plan import AssetPlan, Plan
from .reasons import Reason, ReasonKind
from .targets import Where, check_where, where_mask


class PartitionHealth(StrEnum):
    """The state of a partition in `partita status`."""

    FRESH = "fresh"
    STALE = "stale"
    MISSING = "missing"
    FAILED = "failed"  # its last attempt failed or was interrupted


STATES = tuple(PartitionHealth)

# The state (a position in STATES) of each reason kind: anything else to run is stale.
_STATE_OF_KIND = np.full(256, STATES.index(PartitionHealth.STALE), dtype=np.int8)
_STATE_OF_KIND[ReasonKind.UP_TO_DATE] = STATES.index(PartitionHealth.FRESH)
_STATE_OF_KIND[ReasonKind.MISSING] = STATES.index(PartitionHealth.MISSING)
_STATE_OF_KIND[ReasonKind.FAILED] = STATES.index(PartitionHealth.FAILED)


@dataclass(frozen=True)
class PartitionStatus:
    partition: str | None
    state: PartitionHealth
    reason: str | None


@dataclass(frozen=True)
class StateRange:
    """Consecutive targeted partitions, from `first` to `last` inclusive, in one state;
    for multi-dimensional partitions, consecutive time partitions of one combination of the
    other dimensions, which `group` names (`region=eu, product=p1`; None otherwise)."""

    first: str | None
    last: str | None
    count: int
    state: PartitionHealth
    group: str | None = None


@dataclass(frozen=True)
class AssetStatus:
    """One asset's targeted partitions: counts per state, runs of partitions per state,
    each partition that is not fresh with its reason, and the checks that failed in the
    latest attempts of its partitions."""

    asset: str
    counts: Mapping[str, int]
    ranges: tuple[StateRange, ...]
    partitions: tuple[PartitionStatus, ...]
    failed_checks: tuple[tuple[str | None, CheckResult], ...] = ()

    def count(self, state: str) -> int:
        return self.counts.get(state, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            **{state: self.count(state) for state in STATES},
            "partitions": [
                {"partition": p.partition, "state": p.state, "reason": p.reason}
                for p in self.partitions
            ],
            "ranges": [
                {
                    "first": r.first,
                    "last": r.last,
                    "count": r.count,
                    "state": r.state,
                    **({"group": r.group} if r.group is not None else {}),
                }
                for r in self.ranges
            ],
            "failed_checks": [
                {
                    "partition": partition,
                    "check": check.name,
                    "severity": check.severity,
                    "message": check.message,
                }
                for partition, check in self.failed_checks
            ],
        }


def build_status(
    plan: Plan,
    assets: list[str],
    failed_checks: Iterable[FailedCheck] = (),
    needs_work_limit: int | None = None,
) -> list[AssetStatus]:
    """Statuses of the selected assets, from a plan over them and their upstream; with
    `needs_work_limit`, each lists at most that many partitions that need work (the
    first ones), so a page over a million missing partitions stays small."""
    checks: dict[str, list[tuple[str | None, CheckResult]]] = {asset: [] for asset in assets}
    for failed in failed_checks:
        if failed.asset in checks:
            checks[failed.asset].append((failed.partition, failed.check))
    statuses = []
    for asset in assets:
        asset_plan = plan.asset_plan(asset)
        if asset_plan is not None:
            statuses.append(_asset_status(asset_plan, tuple(checks[asset]), needs_work_limit))
    return statuses


def restrict_where(plan: Plan, definitions: list[AssetDefinition], where: Where) -> Plan:
    """Only the partitions of `definitions` whose dimensions have the `where` values (the
    plan is made over everything first, so their reasons are those of a full plan).
    PartitionError for a dimension none of them has, or a value its dimension lacks."""
    check_where(definitions, where)
    by_name = {definition.name: definition for definition in definitions}
    kept = []
    for asset_plan in plan.assets:
        definition = by_name.get(asset_plan.asset)
        mask = None if definition is None else where_mask(definition, asset_plan.indices, where)
        kept.append(asset_plan if mask is None else asset_plan.subset(mask))
    return Plan(tuple(kept), plan.now)


def _asset_status(
    plan: AssetPlan,
    failed_checks: tuple[tuple[str | None, CheckResult], ...],
    needs_work_limit: int | None = None,
) -> AssetStatus:
    states = _STATE_OF_KIND[plan.kinds]
    counts = np.bincount(states, minlength=len(STATES))
    not_fresh = np.flatnonzero(plan.kinds != ReasonKind.UP_TO_DATE)[:needs_work_limit]
    partitions = tuple(
        PartitionStatus(unit.partition, STATES[states[p]], _text(unit.reason))
        for p, unit in zip(not_fresh, plan.units(not_fresh), strict=True)
    )
    return AssetStatus(
        plan.asset,
        {state: int(counts[i]) for i, state in enumerate(STATES)},
        _ranges(plan, states),
        partitions,
        failed_checks,
    )


def count_states(plan: AssetPlan) -> dict[str, int]:
    """How many of the plan's partitions are fresh, stale, missing and failed."""
    counts = np.bincount(_STATE_OF_KIND[plan.kinds], minlength=len(STATES))
    return {state: int(counts[i]) for i, state in enumerate(STATES)}


def _ranges(plan: AssetPlan, states: np.ndarray) -> tuple[StateRange, ...]:
    """Runs of one state, per combination of the non-time dimensions (in combination
    order), consecutive in time inside each."""
    if not len(states):
        return ()
    multi = plan.partitions if isinstance(plan.partitions, MultiPartitions) else None
    if multi is not None:
        group, step = plan.groups(np.arange(len(states)))
        order = np.lexsort((step, group))
        group, step, ordered = group[order], step[order], states[order]
        broken = (np.diff(ordered) != 0) | (np.diff(group) != 0) | (np.diff(step) != 1)
    else:  # positions are already in time order, all of one group
        ordered = states
        broken = (np.diff(ordered) != 0) | (np.diff(plan.indices) != 1)
    starts = np.concatenate([[0], np.flatnonzero(broken) + 1])
    ends = np.append(starts[1:], len(states)) - 1
    if multi is not None:  # the keys at the plan's positions
        firsts, lasts = _keys_at(plan, order[starts]), _keys_at(plan, order[ends])
    else:
        firsts, lasts = _keys_at(plan, starts), _keys_at(plan, ends)
    return tuple(
        StateRange(
            first,
            last,
            int(end - start + 1),
            STATES[ordered[start]],
            None if multi is None else multi.combination_label(int(group[start])),
        )
        for start, end, first, last in zip(starts, ends, firsts, lasts, strict=True)
    )


def _keys_at(plan: AssetPlan, positions: np.ndarray) -> list[str | None]:
    """The keys at `positions`, in any order (the plan formats ascending positions)."""
    ascending = np.argsort(positions, kind="stable")
    keys: list[str | None] = [None] * len(positions)
    for at, key in zip(ascending.tolist(), plan.keys(positions[ascending]), strict=True):
        keys[at] = key
    return keys


def _text(reason: Reason | None) -> str | None:
    return None if reason is None else str(reason)
