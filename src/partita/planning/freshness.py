"""Freshness: is each asset's latest data where its policy says it should be by now?

Pure: takes the graph, the asset's state table, its plan (the staleness reasons), and `now`.
A time-partitioned asset is `fresh` when its latest complete partition at `now` is
materialized and up to date; otherwise it is `pending` until that partition's interval
end plus `max_lag`, then `overdue`. An unpartitioned asset is fresh while its last
successful materialization is younger than `max_lag` and not stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np

from ..definitions.partitions import MultiPartitions, TimePartitions
from ..graph.graph import AssetGraph
from .plan import AssetPlan
from .reasons import MISSING, ReasonKind
from .state_table import StateTable


class Verdict(StrEnum):
    """A freshness policy's verdict on an asset at a given time."""

    FRESH = "fresh"
    PENDING = "pending"  # not there yet, but not due yet either
    OVERDUE = "overdue"
    NO_POLICY = "no policy"


@dataclass(frozen=True)
class FreshnessResult:
    """The verdict on one asset at `now`, with what was expected and what is there."""

    asset: str
    verdict: Verdict
    expected_partition: str | None = None
    latest_partition: str | None = None
    deadline: datetime | None = None
    lag_s: float | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "verdict": self.verdict,
            "expected_partition": self.expected_partition,
            "latest_partition": self.latest_partition,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "lag_s": None if self.lag_s is None else round(self.lag_s, 3),
            "reason": self.reason,
        }


OLDER_THAN_MAX_LAG = "older than max_lag"  # an unpartitioned asset's reason to catch up


def assess(
    graph: AssetGraph,
    asset: str,
    table: StateTable,
    plan: AssetPlan | None,
    now: datetime,
    combinations: np.ndarray | None = None,
) -> FreshnessResult:
    """The freshness verdict of one asset; `plan` (over all its partitions up to `now`)
    holds why each partition would run. `combinations` (multi-dimensional assets: a flag
    per combination of the non-time dimensions) keeps only some of them (`--where`)."""
    definition = graph[asset]
    policy = definition.freshness
    partitions = definition.partitions
    latest_index = table.latest_published()
    latest = None
    if partitions is not None and latest_index is not None:
        latest = partitions.key(latest_index)
    if policy is None:
        return FreshnessResult(asset, Verdict.NO_POLICY, latest_partition=latest)
    if partitions is None:
        return _assess_unpartitioned(asset, table, plan, policy.max_lag, now)
    if isinstance(partitions, MultiPartitions) and partitions.time is not None:
        return _assess_combinations(
            asset, partitions, latest, plan, policy.max_lag, now, combinations
        )
    if not isinstance(partitions, TimePartitions):
        return FreshnessResult(asset, Verdict.NO_POLICY, latest_partition=latest)
    return _assess_time_partitioned(
        asset, partitions, latest_index, latest, plan, policy.max_lag, now
    )


def _reason_of(plan: AssetPlan | None, index: int | None) -> str | None:
    """Why the partition would run (missing when the plan does not target it)."""
    position = None if plan is None else plan.position_of(index)
    if position is None:
        return MISSING
    reason = plan.reason(position)
    return None if reason is None else str(reason)


def _assess_unpartitioned(
    asset: str, table: StateTable, plan: AssetPlan | None, max_lag: timedelta, now: datetime
) -> FreshnessResult:
    materialized_at = table.materialized_at(0)
    reason = _reason_of(plan, None)
    if materialized_at is None:
        # A first attempt that failed says so (as planning does), not just "missing".
        return FreshnessResult(asset, Verdict.OVERDUE, reason=reason or MISSING)
    deadline = materialized_at + max_lag
    lag = (now - materialized_at).total_seconds()
    if reason is None and now <= deadline:
        return FreshnessResult(asset, Verdict.FRESH, deadline=deadline, lag_s=lag)
    return FreshnessResult(
        asset, Verdict.OVERDUE, deadline=deadline, lag_s=lag, reason=reason or OLDER_THAN_MAX_LAG
    )


def _assess_time_partitioned(
    asset: str,
    partitions: TimePartitions,
    latest_index: int | None,
    latest: str | None,
    plan: AssetPlan | None,
    max_lag: timedelta,
    now: datetime,
) -> FreshnessResult:
    expected_index = partitions.last_complete_index(now)
    if expected_index < 0:
        return FreshnessResult(
            asset, Verdict.FRESH, latest_partition=latest, reason="no partition due"
        )
    deadline = _deadline(partitions, expected_index, max_lag)
    lag = _lag(partitions, latest_index, now)
    reason = _reason_of(plan, expected_index)
    verdict = Verdict.FRESH if reason is None else Verdict.PENDING
    if verdict == Verdict.PENDING and now >= deadline:
        verdict = Verdict.OVERDUE
    if verdict == Verdict.PENDING:
        # The latest partition is not due yet, but an earlier one whose deadline has passed
        # (the latest complete at now - max_lag) still not up to date makes it overdue now.
        due_index = partitions.last_complete_index(now.astimezone(UTC) - max_lag)
        due_key = partitions.key(due_index) if 0 <= due_index < expected_index else None
        due_reason = _reason_of(plan, due_index) if due_key else None
        if due_reason is not None:
            verdict = Verdict.OVERDUE
            deadline = _deadline(partitions, due_index, max_lag)
            reason = f"{due_reason}: {due_key}"
    expected = partitions.key(expected_index)
    shown = None if verdict == Verdict.FRESH else reason
    return FreshnessResult(asset, verdict, expected, latest, deadline, lag, shown)


def _deadline(partitions: TimePartitions, index: int, max_lag: timedelta) -> datetime:
    """The partition's interval end plus max_lag, added in absolute time so a deadline
    across a DST change is still max_lag away."""
    end = partitions.partition_end(index)
    return (end.astimezone(UTC) + max_lag).astimezone(end.tzinfo)


def _lag(partitions: TimePartitions, latest: int | None, now: datetime) -> float | None:
    """Seconds between the end of the latest materialized partition and `now`."""
    if latest is None:
        return None
    end = partitions.partition_end(latest)
    return max(0.0, (now - end).total_seconds())


def _assess_combinations(
    asset: str,
    partitions: MultiPartitions,
    latest: str | None,
    plan: AssetPlan | None,
    max_lag: timedelta,
    now: datetime,
    kept: np.ndarray | None = None,
) -> FreshnessResult:
    """Multi-dimensional: the latest complete time partition of every combination of the
    other dimensions (those `kept`, a flag each, when given) must be up to date; the
    verdict is the worst of them, and the reason names the first combination behind."""
    time = partitions.time
    assert time is not None
    expected_index = time.last_complete_index(now)
    if expected_index < 0:
        return FreshnessResult(
            asset, Verdict.FRESH, latest_partition=latest, reason="no partition due"
        )
    size = partitions.combinations
    behind = _first_behind(plan, partitions, expected_index * size, size, kept)
    expected = time.key(expected_index)
    deadline = _deadline(time, expected_index, max_lag)
    if behind is None:
        return FreshnessResult(asset, Verdict.FRESH, expected, latest, deadline)
    verdict = Verdict.OVERDUE if now >= deadline else Verdict.PENDING
    due_index = time.last_complete_index(now.astimezone(UTC) - max_lag)
    if verdict == Verdict.PENDING and 0 <= due_index < expected_index:
        due_behind = _first_behind(plan, partitions, due_index * size, size, kept)
        if due_behind is not None:
            verdict, behind = Verdict.OVERDUE, due_behind
            deadline = _deadline(time, due_index, max_lag)
    return FreshnessResult(asset, verdict, expected, latest, deadline, None, behind)


def _first_behind(
    plan: AssetPlan | None,
    partitions: MultiPartitions,
    first: int,
    size: int,
    kept: np.ndarray | None = None,
) -> str | None:
    """`reason: key` of the first of the partitions [first, first + size) that is not up
    to date (one time partition, every combination, or those `kept`); None when all are."""
    indices = np.arange(first, first + size, dtype=np.int64)
    behind = np.ones(size, dtype=bool)  # a partition the plan does not target is missing
    if plan is not None and len(plan.indices):
        positions = np.minimum(np.searchsorted(plan.indices, indices), len(plan.indices) - 1)
        targeted = plan.indices[positions] == indices
        behind = ~targeted | (plan.kinds[positions] != ReasonKind.UP_TO_DATE)
    if kept is not None:
        behind &= kept
    found = np.flatnonzero(behind)
    if not len(found):
        return None
    index = int(indices[found[0]])
    return f"{_reason_of(plan, index)}: {partitions.key(index)}"
