"""Reads a page needs beyond the session's own: the health of every asset at once, one
asset's partitions over a range, one partition's attempts, one run's attempts.

Read-only, like the session's read paths: nothing here writes to the catalog or the
warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..catalog.records import RunStatus
from ..errors import PartitionError, UsageError
from ..graph.graph import suggest
from ..planning.targets import PartitionRange
from .requests import PlanRequest

if TYPE_CHECKING:
    from ..catalog.records import FailedCheck, MaterializationRecord, RunRecord
    from ..planning.status import AssetStatus, PartitionStatus
    from ..planning.watermarks import WatermarkReport
    from .session import Selection, Session

# A page lists at most this many partitions that need work; the ranges cover the rest.
NEEDS_WORK_LIMIT = 1000


class NotFoundError(UsageError):
    """An asset, partition or run that a page asked for does not exist."""


@dataclass(frozen=True)
class RunDetail:
    """A run, the attempts it recorded so far (oldest first) and, while it runs, the
    units it holds leases on (those in progress)."""

    run: RunRecord
    attempts: list[MaterializationRecord]
    in_progress: list[tuple[str, str | None]]


def health_counts(
    session: Session, selection: Selection = None, *, now: datetime
) -> dict[str, dict[str, int]]:
    """Per asset of the selection and of its upstream (planned with it anyway), how many
    partitions are fresh, stale, missing and failed, from one plan (no text made per
    partition). An asset's counts do not depend on the selection it was planned in."""
    from ..planning.status import count_states

    selected = session.select(selection)
    upstream = sorted(session.graph.upstream_closure(selected))
    plan = session.plan(PlanRequest(selection=tuple(upstream), now=now))
    return {asset_plan.asset: count_states(asset_plan) for asset_plan in plan.assets}


def asset_status(
    session: Session,
    asset: str,
    *,
    now: datetime,
    partitions: PartitionRange | None = None,
    needs_work_limit: int = NEEDS_WORK_LIMIT,
) -> AssetStatus:
    """One asset's status over `partitions` (every partition by default): counts, ranges,
    and at most `needs_work_limit` partitions that need work, with their reasons."""
    from ..planning.status import build_status

    name = known_asset(session, asset)
    upstream = sorted(session.graph.upstream_closure([name]))
    request = PlanRequest(
        selection=tuple(upstream), partitions=partitions or PartitionRange(), now=now
    )
    plan = session.plan(request)
    checks = [c for c in session.catalog.failed_checks() if c.asset == name]
    (status,) = build_status(plan, [name], checks, needs_work_limit)
    return status


def asset_watermark(session: Session, asset: str, *, now: datetime) -> WatermarkReport:
    """One asset's high-water mark, latest published partition and complete-through key.

    The partitions come from the planner's state table (arrays, no object per partition);
    only an asset declaring a watermark column has its states read for the maximum."""
    import numpy as np

    from ..planning.state_table import load_state_tables
    from ..planning.targets import partition_count
    from ..planning.watermarks import WatermarkReport, high_water_mark

    name = known_asset(session, asset)
    definition = session.graph[name]
    high_water = None
    if definition.watermark is not None:
        high_water = high_water_mark(session.catalog.states(name).values())
    partitions = definition.partitions
    if partitions is None:
        return WatermarkReport(name, high_water, None, None)
    table = load_state_tables(session.catalog, session.graph, [name])[name]
    latest = table.latest_published()
    available = partition_count(definition, now)
    published = table.column("published", available).astype(bool)
    gaps = np.flatnonzero(~published)
    through = int(gaps[0]) if len(gaps) else available  # partitions before the first gap
    return WatermarkReport(
        name,
        high_water,
        None if latest is None else partitions.key(latest),
        partitions.key(through - 1) if through else None,
    )


def partition_status(session: Session, asset: str, partition: str | None, *, now: datetime):
    """The state and reason of one partition (PartitionStatus); NotFoundError for a key
    the asset does not have."""
    name = known_asset(session, asset)
    key = known_partition(session, name, partition, now)
    status = asset_status(
        session, name, now=now, partitions=None if key is None else PartitionRange.single(key)
    )
    found: PartitionStatus | None = next(iter(status.partitions), None)
    if found is None:
        from ..planning.status import PartitionHealth, PartitionStatus

        found = PartitionStatus(key, PartitionHealth.FRESH, None)
    return found


def partition_attempts(
    session: Session, asset: str, partition: str | None, limit: int = 100
) -> list[MaterializationRecord]:
    """The recorded attempts of one partition, newest first, each with its checks."""
    return session.catalog.partition_attempts(asset, partition, limit)


def partition_failed_checks(
    session: Session, asset: str, partition: str | None
) -> list[FailedCheck]:
    """The checks that failed in the latest attempt of one partition."""
    return [
        c for c in session.catalog.failed_checks() if c.asset == asset and c.partition == partition
    ]


def run_detail(session: Session, run_id: str) -> RunDetail:
    """A run and its attempts; NotFoundError for an unknown run id."""
    run = session.catalog.get_run(run_id)
    if run is None:
        raise NotFoundError(f"no run has the id '{run_id}'. Run 'partita runs' to see them.")
    in_progress = session.catalog.run_leases(run_id) if run.status == RunStatus.RUNNING else []
    return RunDetail(run, session.catalog.run_history(run_id), in_progress)


def known_asset(session: Session, asset: str) -> str:
    """`asset` if the project defines it, else NotFoundError (with a suggestion)."""
    if asset not in session.graph:
        raise NotFoundError(
            f"no asset is named '{asset}'.{suggest(asset, session.graph.assets)} "
            "Run 'partita list' to see every asset."
        )
    return asset


def known_partition(
    session: Session, asset: str, partition: str | None, now: datetime
) -> str | None:
    """The key if `asset` has that partition at `now` (None for an unpartitioned asset,
    which has only the one), else NotFoundError."""
    partitions = session.graph[asset].partitions
    if partitions is None:
        if partition not in (None, "", "-"):
            raise NotFoundError(
                f"asset '{asset}' is unpartitioned: it has no partition '{partition}'."
            )
        return None
    try:
        index = partitions.index(partition or "")
    except PartitionError as error:
        raise NotFoundError(f"asset '{asset}' has no partition '{partition}': {error}") from None
    if index >= partitions.count(now):
        raise NotFoundError(
            f"asset '{asset}' has no partition '{partition}' yet at {now.isoformat()}."
        )
    return partitions.key(index)
