"""Which partitions of each asset a command targets, as index ranges.

CLI `--from/--to` keys are inclusive; they become half-open index ranges here, once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..definitions.asset import AssetDefinition
from ..definitions.partitions import Partitions, TimePartitions
from ..errors import PartitionError


@dataclass(frozen=True)
class PartitionRange:
    """Inclusive first and last keys given on the command line; None means everything."""

    first: str | None = None
    last: str | None = None

    @classmethod
    def single(cls, key: str) -> PartitionRange:
        return cls(key, key)

    @property
    def everything(self) -> bool:
        return self.first is None and self.last is None


def target_indices(
    definition: AssetDefinition, requested: PartitionRange, now: datetime
) -> range | None:
    """The half-open index range of the asset's partitions to consider, or None when the
    asset is unpartitioned. Only partitions that exist at `now` are targeted."""
    partitions = definition.partitions
    if partitions is None:
        return None
    available = partitions.count(now)
    if requested.everything:
        return range(available)
    first = _key_bounds(definition, partitions, requested.first, available, now)[0]
    last = _key_bounds(definition, partitions, requested.last, available, now)[1]
    if first >= last:
        raise PartitionError(
            f"--from {requested.first} is after --to {requested.last}: give the earlier key "
            "first (both keys are inclusive)."
        )
    return range(first, last)


def _key_bounds(
    definition: AssetDefinition,
    partitions: Partitions,
    key: str | None,
    available: int,
    now: datetime,
) -> tuple[int, int]:
    """The half-open index range a key stands for in this asset's partitions.

    A key of the asset's own kind is one partition; for time partitions, a key of
    another granularity (a day for a monthly asset) stands for the partitions
    overlapping its interval.
    """
    if key is None:
        return 0, available
    try:
        index = partitions.index(key)
        bounds = (index, index + 1)
    except PartitionError as own_error:
        window = _generic_window(key, partitions)
        if window is None:
            raise PartitionError(f"asset '{definition.name}': {own_error}") from None
        overlap = partitions.indices_overlapping(*window)
        bounds = (overlap.start, overlap.stop)
        if overlap.start >= overlap.stop:
            raise PartitionError(
                f"asset '{definition.name}': the partition key {key!r} lies outside its "
                f"partitions ({partitions.describe()})."
            ) from None
    if bounds[0] >= available:
        raise PartitionError(
            f"asset '{definition.name}': partition {key!r} is not complete at "
            f"{now.isoformat()}; the latest complete partition is "
            f"{partitions.key(available - 1) if available else 'none yet'}. "
            "Pass a later --now or an earlier key."
        )
    return bounds[0], min(bounds[1], available)


_HOUR = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def _generic_window(key: str, partitions: Partitions) -> tuple[datetime, datetime] | None:
    """The interval of an hourly, daily or monthly key in the partitions' timezone."""
    if not isinstance(partitions, TimePartitions):
        return None
    tz = partitions.start.tzinfo
    try:
        if _HOUR.match(key):
            start = datetime.strptime(key, "%Y-%m-%dT%H").replace(tzinfo=tz)
            return start, start + timedelta(hours=1)
        if _DAY.match(key):
            start = datetime.strptime(key, "%Y-%m-%d").replace(tzinfo=tz)
            return start, start + timedelta(days=1)
        if _MONTH.match(key):
            start = datetime.strptime(key, "%Y-%m").replace(tzinfo=tz)
            year, month = divmod(start.month, 12)
            return start, start.replace(year=start.year + year, month=month + 1)
    except ValueError:
        return None
    return None
