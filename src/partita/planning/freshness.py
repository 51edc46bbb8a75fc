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

from ..definitions.partitions import TimePartitions
from ..graph.graph import AssetGraph
from .plan import AssetPlan
from .reasons import MISSING
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


def assess(
    graph: AssetGraph, asset: str, table: StateTable, plan: AssetPlan | None, now: datetime
) -> FreshnessResult:
    """The freshness verdict of one asset; `plan` (over all its partitions up to `now`)
    holds why each partition would run."""
    definition = graph[asset]
    policy = definition.freshness
    partitions = definition.partitions
    latest_index = table.latest_published()
    latest = None
    if partitions is not None and latest_index is not None:
        latest = partitions.key(latest_index)

    def reason_of(index: int | None) -> str | None:
        position = None if plan is None else plan.position_of(index)
        if position is None:
            return MISSING
        reason = plan.reason(position)
        return None if reason is None else str(reason)

    if policy is None:
        return FreshnessResult(asset, Verdict.NO_POLICY, latest_partition=latest)
    if partitions is None:
        materialized_at = table.materialized_at(0)
        if materialized_at is None:
            # A first attempt that failed says so (as planning does), not just "missing".
            return FreshnessResult(asset, Verdict.OVERDUE, reason=reason_of(None) or MISSING)
        deadline = materialized_at + policy.max_lag
        lag = (now - materialized_at).total_seconds()
        reason = reason_of(None)
        if reason is None and now <= deadline:
            return FreshnessResult(asset, Verdict.FRESH, deadline=deadline, lag_s=lag)
        return FreshnessResult(
            asset,
            Verdict.OVERDUE,
            deadline=deadline,
            lag_s=lag,
            reason=reason or "older than max_lag",
        )
    if not isinstance(partitions, TimePartitions):
        return FreshnessResult(asset, Verdict.NO_POLICY, latest_partition=latest)
    expected_index = partitions.last_complete_index(now)
    if expected_index < 0:
        return FreshnessResult(
            asset, Verdict.FRESH, latest_partition=latest, reason="no partition due"
        )
    expected = partitions.key(expected_index)
    deadline = _deadline(partitions, expected_index, policy.max_lag)
    lag = _lag(partitions, latest_index, now)
    reason = reason_of(expected_index)
    verdict = (
        Verdict.FRESH
        if reason is None
        else (Verdict.PENDING if now < deadline else Verdict.OVERDUE)
    )
    if verdict == Verdict.PENDING:
        # The latest partition is not due yet, but an earlier one whose deadline has passed
        # (the latest complete at now - max_lag) still not up to date makes it overdue now.
        due_index = partitions.last_complete_index(now.astimezone(UTC) - policy.max_lag)
        due_key = partitions.key(due_index) if 0 <= due_index < expected_index else None
        due_reason = reason_of(due_index) if due_key else None
        if due_reason is not None:
            verdict = Verdict.OVERDUE
            deadline = _deadline(partitions, due_index, policy.max_lag)
            reason = f"{due_reason}: {due_key}"
    return FreshnessResult(
        asset,
        verdict,
        expected,
        latest,
        deadline,
        lag,
        None if verdict == Verdict.FRESH else reason,
    )


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
