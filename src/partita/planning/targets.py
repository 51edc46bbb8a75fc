"""Which partitions of each asset a command targets, as index ranges.

CLI `--from/--to` keys are inclusive; they become half-open index ranges here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..definitions.asset import AssetDefinition
from ..definitions.partitions import MultiPartitions, Partitions, TimePartitions
from ..definitions.partitions.multi import SEPARATOR, Dimensions
from ..errors import PartitionError

if TYPE_CHECKING:
    import numpy as np

# `--where region=eu,us`: per dimension name, the values to keep.
Where = tuple[tuple[str, tuple[str, ...]], ...]

# Planning holds a few arrays per partition: more than this per asset is a mistaken `now`
# (a hundred years of hourly partitions is under 900,000).
MAX_PARTITIONS = 10_000_000


@dataclass(frozen=True)
class PartitionRange:
    """Inclusive first and last keys given on the command line; None means everything.

    `where` keeps only the partitions whose non-time dimensions have the given values
    (`--where region=eu,us`), in the assets that have those dimensions."""

    first: str | None = None
    last: str | None = None
    where: Where = ()

    @classmethod
    def single(cls, key: str) -> PartitionRange:
        return cls(key, key)

    @property
    def everything(self) -> bool:
        return self.first is None and self.last is None


def partition_count(definition: AssetDefinition, now: datetime) -> int:
    """How many partition indices the asset has at `now` (1 if unpartitioned).

    PartitionError, naming the asset and the range of `now` it accepts, when its partitions
    cannot represent `now` or would number more than MAX_PARTITIONS: checked before
    anything is allocated for them."""
    partitions = definition.partitions
    if partitions is None:
        return 1
    try:
        count = partitions.count(now)
    except PartitionError as error:
        raise PartitionError(
            f"asset '{definition.name}': now={now.isoformat()} is outside what its partitions "
            f"({partitions.describe()}) can represent ({error}). Pass an earlier --now."
        ) from None
    if count > MAX_PARTITIONS:
        latest = _latest_allowed(partitions)
        raise PartitionError(
            f"asset '{definition.name}': at now={now.isoformat()} it would have {count:,} "
            f"partitions ({partitions.describe()}), more than the {MAX_PARTITIONS:,} partita "
            f"plans per asset; --now must be at most {latest} for it. Check --now, "
            "or give the partitions an end."
        )
    return count


def _latest_allowed(partitions: Partitions) -> str:
    """The latest `now` at which the partitions number at most MAX_PARTITIONS."""
    if isinstance(partitions, MultiPartitions) and partitions.time is not None:
        partitions, last = partitions.time, (MAX_PARTITIONS - 1) // partitions.combinations
    else:
        last = MAX_PARTITIONS - 1
    if not isinstance(partitions, TimePartitions):
        return "(no time: declare fewer keys)"
    return partitions.partition_end(last).isoformat()


def target_indices(
    definition: AssetDefinition, requested: PartitionRange, now: datetime
) -> range | None:
    """The half-open index range of the asset's partitions to consider, or None when the
    asset is unpartitioned. Only partitions that exist at `now` are targeted."""
    partitions = definition.partitions
    if partitions is None:
        return None
    available = partition_count(definition, now)
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
    if isinstance(partitions, MultiPartitions) and partitions.time and SEPARATOR not in key:
        # A key of the time dimension stands for every combination of its time partitions.
        size = partitions.combinations
        first, stop = _key_bounds(definition, partitions.time, key, available // size, now)
        return first * size, stop * size
    try:
        index = partitions.index(key)
        bounds = (index, index + 1)
    except PartitionError as own_error:
        window = partitions.key_interval(key) if isinstance(partitions, TimePartitions) else None
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


def where_mask(definition: AssetDefinition, indices: np.ndarray, where: Where) -> np.ndarray | None:
    """Which of the asset's partition `indices` the `where` filter keeps; None when the
    asset has none of its dimensions. PartitionError for a value its dimension lacks."""
    import numpy as np  # loads only when planning: session start-up stays light

    dimensions = Dimensions.of(definition.partitions)
    applicable = [(name, values) for name, values in where if name in dimensions.inner]
    if not applicable:
        return None
    for name, values in applicable:
        known = set(dimensions.inner[name].keys(0))
        unknown = [value for value in values if value not in known]
        if unknown:
            raise PartitionError(
                f"asset '{definition.name}': --where {name}={unknown[0]} names a value its "
                f"dimension {name!r} lacks ({dimensions.inner[name].describe()})."
            )
    combinations = dimensions.combination_values(definition.partitions)
    kept = np.array(
        [all(values[name] in allowed for name, allowed in applicable) for values in combinations],
        dtype=bool,
    )
    return kept[np.asarray(indices, dtype=np.int64) % dimensions.combinations]


def kept_combinations(definitions: list[AssetDefinition], where: Where) -> dict[str, np.ndarray]:
    """Per multi-dimensional asset with a `where` dimension, a flag per combination of its
    non-time dimensions: whether `where` keeps it (none without `where`)."""
    import numpy as np  # loads only when planning

    if not where:
        return {}
    check_where(definitions, where)
    kept = {}
    for definition in definitions:
        if isinstance(definition.partitions, MultiPartitions):
            size = definition.partitions.combinations
            mask = where_mask(definition, np.arange(size, dtype=np.int64), where)
            if mask is not None:
                kept[definition.name] = mask
    return kept


def check_where(definitions: list[AssetDefinition], where: Where) -> None:
    """PartitionError when a `--where` dimension is a dimension of none of `definitions`."""
    names = {name for d in definitions for name in Dimensions.of(d.partitions).inner}
    for name, _ in where:
        if name not in names:
            known = ", ".join(sorted(names)) or "none"
            raise PartitionError(
                f"--where {name}=...: no selected asset has a dimension {name!r} (their "
                f"non-time dimensions: {known}). Check the name, or the selection."
            )
