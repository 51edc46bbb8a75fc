"""Partition mappings: which upstream partitions each downstream partition reads.

A mapping answers, for an array of downstream partition indices at once, the half-open
upstream index window [low, high) each one reads, clipped to the upstream partitions
that exist, and whether the clipping cut it short. Every mapping reads one contiguous run
of upstream indices, which is what lets planning answer questions about millions of
partitions with array operations.

A partitioning of None means the asset is unpartitioned: it has one partition, index 0.
Mappings are frozen values: equal mappings read the same partitions, and a changed
mapping changes the asset's `deps_version` ("dependencies changed").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from .dimension_reads import Reads
from .partitions import MultiPartitions, Partitions, StaticPartitions, TimePartitions
from .partitions.multi import Dimensions

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class MappedWindows:
    """Per downstream partition k, the upstream indices [low[k], high[k]) it reads
    (half-open, within [0, upstream_count)); `clipped[k]` is true when the mapping asked
    for upstream partitions that do not exist (yet), so the window was cut short."""

    low: np.ndarray
    high: np.ndarray
    clipped: np.ndarray

    @classmethod
    def clip(cls, first: np.ndarray, stop: np.ndarray, upstream_count: int) -> MappedWindows:
        """The windows [first, stop) clipped to [0, upstream_count)."""
        import numpy as np

        low = np.clip(first, 0, upstream_count)
        high = np.maximum(np.clip(stop, 0, upstream_count), low)
        return cls(low, high, (low != first) | (high != stop))


class PartitionMapping(ABC):
    """How a downstream asset's partitions read an upstream asset's partitions.

    Subclasses are frozen dataclasses implementing `validate` and `_bounds`; see
    "How to add a partition mapping" in the README and `tests/definitions/mappings`."""

    @abstractmethod
    def validate(self, downstream: Partitions | None, upstream: Partitions | None) -> str | None:
        """Why the downstream can't read the upstream this way, as a sentence; None if it can.

        Called when the graph is built, so the planner only sees valid pairs."""

    @abstractmethod
    def _bounds(
        self,
        downstream: Partitions | None,
        indices: np.ndarray,
        upstream: Partitions | None,
        upstream_count: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The unclipped upstream windows [first, stop) of the downstream `indices`."""

    def windows(
        self,
        downstream: Partitions | None,
        indices: np.ndarray,
        upstream: Partitions | None,
        upstream_count: int,
    ) -> MappedWindows:
        """The upstream windows read by the downstream partitions `indices` (int64 array;
        [0] for an unpartitioned downstream), given that `upstream_count` upstream
        partitions exist (1 for an unpartitioned upstream)."""
        import numpy as np

        indices = np.asarray(indices, dtype=np.int64)
        first, stop = self._bounds(downstream, indices, upstream, upstream_count)
        return MappedWindows.clip(first, stop, upstream_count)


@dataclass(frozen=True)
class Identity(PartitionMapping):
    """Partition i reads upstream partition i: both assets are partitioned the same way.

    `AssetDep("raw", mapping=Identity())`; the default for equal partitions."""

    def validate(self, downstream: Partitions | None, upstream: Partitions | None) -> str | None:
        if downstream == upstream:
            return None
        return (
            f"Identity() needs the same partitions on both sides, but the downstream is "
            f"{_describe(downstream)} and the upstream is {_describe(upstream)}; use "
            "TimeWindow() for other time grains or AllPartitions()"
        )

    def _bounds(self, downstream, indices, upstream, upstream_count):
        return indices, indices + 1


@dataclass(frozen=True)
class TimeWindow(PartitionMapping):
    """A downstream time partition reads the upstream time partitions overlapping its
    interval, widened by `offset=(low, high)`: upstream indices first + low .. last + high
    (both inclusive). Works across grains (a month reads its days; a day reads its month)
    and timezones.

    `AssetDep("sales", mapping=TimeWindow(offset=(-6, 0)))`: a 7-day rolling window,
    also written `AssetDep("sales", offset=(-6, 0))`."""

    offset: tuple[int, int] = (0, 0)

    def validate(self, downstream: Partitions | None, upstream: Partitions | None) -> str | None:
        problem = _check_offset(self.offset)
        if problem is not None:
            return problem
        for side, partitions in (("downstream", downstream), ("upstream", upstream)):
            if not isinstance(partitions, TimePartitions):
                return (
                    f"an offset needs time partitions on both sides, but the {side} asset is "
                    f"{_describe(partitions)}; remove the offset or partition both assets by time"
                )
        return None

    def _bounds(self, downstream, indices, upstream, upstream_count):
        low, high = self.offset
        first, last = _overlap(downstream, indices, upstream)
        return first + low, last + high + 1


@dataclass(frozen=True)
class AllPartitions(PartitionMapping):
    """Every downstream partition reads every upstream partition that exists.

    `AssetDep("regions", mapping=AllPartitions())`; the default when either side is
    unpartitioned (an unpartitioned upstream is one partition)."""

    def validate(self, downstream: Partitions | None, upstream: Partitions | None) -> str | None:
        return None

    def _bounds(self, downstream, indices, upstream, upstream_count):
        import numpy as np

        return np.zeros(len(indices), np.int64), np.full(len(indices), upstream_count, np.int64)


@dataclass(frozen=True)
class LastPartition(PartitionMapping):
    """Every downstream partition reads the latest upstream partition that exists at `now`
    (as Dagster's LastPartitionMapping).

    `AssetDep("exchange_rates", mapping=LastPartition())`: each day reads the newest
    rates; when a new upstream partition appears, every reader is stale."""

    def validate(self, downstream: Partitions | None, upstream: Partitions | None) -> str | None:
        return None

    def _bounds(self, downstream, indices, upstream, upstream_count):
        import numpy as np

        stop = np.full(len(indices), upstream_count, np.int64)
        return stop - 1, stop


@dataclass(frozen=True)
class StaticKeys(PartitionMapping):
    """Static partitions read the upstream static partition of the same key, or of the key
    `keys` names for it (downstream key -> upstream key).

    `AssetDep("prices", mapping=StaticKeys({"uk": "eu"}))`: `uk` reads `eu`, every other
    key reads itself; the default between two different static partitionings."""

    keys: tuple[tuple[str, str], ...] = field(default=())

    def __init__(self, keys: Mapping[str, str] | None = None) -> None:
        object.__setattr__(self, "keys", tuple(sorted((keys or {}).items())))

    def validate(self, downstream: Partitions | None, upstream: Partitions | None) -> str | None:
        if not isinstance(downstream, StaticPartitions) or not isinstance(
            upstream, StaticPartitions
        ):
            if downstream is None or upstream is None:
                return (
                    f"StaticKeys() needs static partitions on both sides, but the downstream is "
                    f"{_describe(downstream)} and the upstream is {_describe(upstream)}; "
                    "use AllPartitions()"
                )
            return (
                f"the downstream partitions ({downstream.describe()}) can't be mapped to the "
                f"upstream partitions ({upstream.describe()}): static keys have no time "
                "interval; partition both assets the same way or leave one unpartitioned"
            )
        renamed = dict(self.keys)
        missing = [
            key
            for key in downstream.partition_keys
            if upstream.position_of(renamed.get(key, key)) is None
        ]
        if missing:
            listed = ", ".join(repr(renamed.get(key, key)) for key in missing)
            return (
                f"the upstream static partitions ({upstream.describe()}) lack the downstream "
                f"keys {listed}: every downstream key must also be an upstream key"
            )
        return None

    def _bounds(self, downstream, indices, upstream, upstream_count):
        import numpy as np

        renamed = dict(self.keys)
        positions = np.array(
            [upstream.position_of(renamed.get(key, key)) for key in downstream.partition_keys],
            dtype=np.int64,
        )
        first = positions[indices]
        return first, first + 1


def default_mapping(
    downstream: Partitions | None,
    upstream: Partitions | None,
    offset: tuple[int, int] | None = None,
) -> PartitionMapping:
    """The mapping a dependency declared without one uses (an offset is a TimeWindow)."""
    multi = isinstance(downstream, MultiPartitions) or isinstance(upstream, MultiPartitions)
    if multi and downstream != upstream:
        time_name = Dimensions.of(downstream).time_name
        if offset is None:
            return PerDimension()
        if time_name is None:
            return TimeWindow(offset)  # which says why an offset needs time on both sides
        return PerDimension(**{time_name: TimeWindow(offset)})
    if offset is not None:
        return TimeWindow(offset)
    if downstream is None or upstream is None:
        return AllPartitions()
    if downstream == upstream:
        return Identity()
    if isinstance(downstream, TimePartitions) and isinstance(upstream, TimePartitions):
        return TimeWindow()
    return StaticKeys()


def _overlap(
    downstream: TimePartitions, indices: np.ndarray, upstream: TimePartitions
) -> tuple[np.ndarray, np.ndarray]:
    """The first and last upstream index (unclipped) overlapping each downstream partition."""
    import numpy as np

    if downstream == upstream:
        return indices, indices
    if downstream.timezone == upstream.timezone:
        # In one timezone, boundaries compare on the naive wall clock: exact, and vectorized.
        starts = downstream.wall_starts(indices)
        ends = downstream.wall_starts(indices + 1)
        last_moments = ends - np.timedelta64(1, "us")  # of each half-open interval
        return upstream.wall_indices(starts), upstream.wall_indices(last_moments)
    tick = timedelta(microseconds=1)
    first = [upstream.index_containing(downstream.partition_start(int(i))) for i in indices]
    last = [upstream.index_containing(downstream.partition_end(int(i)) - tick) for i in indices]
    return np.array(first, np.int64), np.array(last, np.int64)


def _check_offset(offset: object) -> str | None:
    if (
        not isinstance(offset, tuple)
        or len(offset) != 2
        or not all(isinstance(bound, int) and not isinstance(bound, bool) for bound in offset)
    ):
        return (
            f"offset {offset!r} is not a pair of integers: write it as (low, high), such as "
            "(-6, 0) for the partition and the six before it"
        )
    low, high = offset
    if low > high:
        return (
            f"offset {offset!r} is backwards: the first number starts the window and must not "
            f"be greater than the second; did you mean {(high, low)!r}?"
        )
    return None


def _describe(partitions: Partitions | None) -> str:
    return "unpartitioned" if partitions is None else partitions.describe()


@dataclass(frozen=True)
class PerDimension(PartitionMapping):
    """Multi-dimensional partitions read dimension by dimension: the time dimensions map as
    single time partitions do (identity, TimeWindow offsets, other grains, AllPartitions,
    LastPartition); a non-time dimension both sides have reads the same value (or the one
    StaticKeys names); a dimension only the upstream has is read whole; one only the
    downstream has is ignored. The default when either side is MultiPartitions.

    `AssetDep("sales", mapping=PerDimension(date=TimeWindow(offset=(-6, 0))))`, named by
    the downstream's dimensions. Each downstream partition must read one contiguous run of
    upstream indices (time outermost): several time partitions of one combination at once
    (a 7-day window per region) are refused as a definition error for now."""

    mappings: tuple[tuple[str, PartitionMapping], ...] = field(default=())

    def __init__(self, **mappings: PartitionMapping) -> None:
        object.__setattr__(self, "mappings", tuple(sorted(mappings.items())))

    def validate(self, downstream: Partitions | None, upstream: Partitions | None) -> str | None:
        reads = self._reads(downstream, upstream)
        return reads if isinstance(reads, str) else reads.problem(downstream, upstream)

    def _bounds(self, downstream, indices, upstream, upstream_count):
        reads = self._reads(downstream, upstream)
        assert not isinstance(reads, str), reads  # validated when the graph was built
        return reads.bounds(downstream, indices, upstream, upstream_count)

    def _reads(self, downstream: Partitions | None, upstream: Partitions | None) -> Reads | str:
        """The per-dimension reads, or why the named mappings don't fit the dimensions."""
        down, up = Dimensions.of(downstream), Dimensions.of(upstream)
        renames: dict[str, dict[str, str]] = {}
        time_mapping: PartitionMapping | None = None
        for name, mapping in self.mappings:
            if name == down.time_name:
                time_mapping = mapping
            elif name not in down.inner:
                return (
                    f"PerDimension names the dimension {name!r}, which the downstream "
                    f"partitions ({_describe(downstream)}) lack"
                )
            elif isinstance(mapping, StaticKeys):
                renames[name] = dict(mapping.keys)
            elif not isinstance(mapping, Identity):
                return (
                    f"dimension {name!r} is not time, so it maps with Identity() or "
                    f"StaticKeys(...), not {mapping!r}"
                )
        if down.time is not None and up.time is not None and time_mapping is None:
            time_mapping = default_mapping(down.time, up.time)
        return Reads(time_mapping, renames)
