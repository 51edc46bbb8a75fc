"""Which upstream partitions a downstream partition reads, and the inverse.

A partitioning of None means the asset is unpartitioned. Time partitions map by overlap of
their half-open intervals [start, end); an offset (lo, hi) widens or shifts that overlap to
the upstream indices first + lo .. last + hi. Static partitions map key to key.
"""

from __future__ import annotations

from datetime import timedelta

from partita.definitions.partitions import (
    Partitions,
    StaticPartitions,
    TimePartitions,
    clip_range,
)
from partita.errors import PartitionError

_TICK = timedelta(microseconds=1)  # the last representable moment of a half-open interval


def check_mapping(
    downstream: Partitions | None,
    upstream: Partitions | None,
    offset: tuple[int, int] | None,
) -> str | None:
    """Why the downstream can't read the upstream this way, as a sentence; None if it can."""
    if offset is not None:
        problem = _check_offset(downstream, upstream, offset)
        if problem is not None:
            return problem
    if isinstance(downstream, StaticPartitions) and isinstance(upstream, StaticPartitions):
        missing = [key for key in downstream.partition_keys if upstream.position_of(key) is None]
        if missing:
            listed = ", ".join(repr(key) for key in missing)
            return (
                f"the upstream static partitions ({upstream.describe()}) lack the downstream "
                f"keys {listed}: every downstream key must also be an upstream key"
            )
        return None
    if downstream is None or upstream is None:
        return None
    if isinstance(downstream, StaticPartitions) != isinstance(upstream, StaticPartitions):
        return (
            f"the downstream partitions ({downstream.describe()}) can't be mapped to the "
            f"upstream partitions ({upstream.describe()}): static keys have no time interval; "
            "partition both assets the same way or leave one unpartitioned"
        )
    return None


def upstream_indices(
    downstream: Partitions | None,
    downstream_index: int | None,
    upstream: Partitions | None,
    offset: tuple[int, int] | None,
    upstream_count: int,
) -> range | None:
    """The upstream indices downstream partition `downstream_index` reads.

    None means the whole (unpartitioned) upstream. The result is clipped to
    [0, upstream_count), so windows near the start are shorter and may be empty.
    """
    low, high = _offset_bounds(downstream, upstream, offset)
    if upstream is None:
        return None
    if downstream is None:
        return range(0, upstream_count)
    if downstream_index is None:
        raise PartitionError(
            f"no downstream partition given: the downstream asset is partitioned "
            f"({downstream.describe()}), so pass the index of the partition being computed"
        )
    if downstream is upstream or downstream == upstream:
        first = last = downstream_index
    elif isinstance(downstream, TimePartitions) and isinstance(upstream, TimePartitions):
        first, last = _overlap(downstream, downstream_index, upstream)
    elif isinstance(downstream, StaticPartitions) and isinstance(upstream, StaticPartitions):
        key = downstream.key(downstream_index)
        position = upstream.position_of(key)
        if position is None:
            raise PartitionError(
                f"downstream partition {key!r} has no upstream partition: "
                f"{check_mapping(downstream, upstream, offset)}"
            )
        first = last = position
    else:
        raise PartitionError(check_mapping(downstream, upstream, offset))
    return clip_range(first + low, last + high + 1, upstream_count)


def downstream_indices(
    downstream: Partitions | None,
    upstream: Partitions | None,
    offset: tuple[int, int] | None,
    upstream_index: int,
    downstream_count: int,
) -> range | None:
    """The downstream indices that read upstream partition `upstream_index`.

    The exact inverse of upstream_indices, clipped to [0, downstream_count); None when the
    downstream is unpartitioned.
    """
    low, high = _offset_bounds(downstream, upstream, offset)
    if downstream is None:
        return None
    if upstream is None:
        return range(0, downstream_count)
    if downstream is upstream or downstream == upstream:
        return clip_range(upstream_index - high, upstream_index - low + 1, downstream_count)
    if isinstance(downstream, TimePartitions) and isinstance(upstream, TimePartitions):
        # Downstream d reads upstream u when first(d) + low <= u <= last(d) + high; first and
        # last never decrease with d, so the readers form one contiguous run.
        earliest = _first_reader(downstream, upstream, upstream_index - high)
        latest = _last_reader(downstream, upstream, upstream_index - low)
        return clip_range(earliest, latest + 1, downstream_count)
    if isinstance(downstream, StaticPartitions) and isinstance(upstream, StaticPartitions):
        position = downstream.position_of(upstream.key(upstream_index))
        if position is None:
            return range(0, 0)
        return clip_range(position, position + 1, downstream_count)
    raise PartitionError(check_mapping(downstream, upstream, offset))


def _check_offset(
    downstream: Partitions | None, upstream: Partitions | None, offset: object
) -> str | None:
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
    for side, partitions in (("downstream", downstream), ("upstream", upstream)):
        if not isinstance(partitions, TimePartitions):
            what = "unpartitioned" if partitions is None else f"{partitions.describe()}"
            return (
                f"an offset needs time partitions on both sides, but the {side} asset is "
                f"{what}; remove the offset or partition both assets by time"
            )
    return None


def _offset_bounds(
    downstream: Partitions | None, upstream: Partitions | None, offset: tuple[int, int] | None
) -> tuple[int, int]:
    if offset is None:
        return 0, 0
    problem = _check_offset(downstream, upstream, offset)
    if problem is not None:
        raise PartitionError(problem)
    return offset


def _same_wall_clock(first: TimePartitions, second: TimePartitions) -> bool:
    # In one timezone, boundaries compare on the naive wall clock, which is exact and fast.
    return first.timezone == second.timezone


def _overlap(downstream: TimePartitions, index: int, upstream: TimePartitions) -> tuple[int, int]:
    """The first and last upstream index (unclipped) overlapping downstream partition `index`."""
    if _same_wall_clock(downstream, upstream):
        start, end = downstream._wall_start(index), downstream._wall_start(index + 1)
        return upstream._wall_index(start), upstream._wall_index(end - _TICK)
    start, end = downstream._instant_start(index), downstream._instant_start(index + 1)
    return upstream.index_containing(start), upstream.index_containing(end - _TICK)


def _first_reader(downstream: TimePartitions, upstream: TimePartitions, target: int) -> int:
    """The smallest downstream d whose overlap ends at or after upstream index `target`."""
    if _same_wall_clock(downstream, upstream):
        return downstream._wall_index(upstream._wall_start(target))
    return downstream.index_containing(upstream._instant_start(target))


def _last_reader(downstream: TimePartitions, upstream: TimePartitions, target: int) -> int:
    """The largest downstream d whose overlap starts at or before upstream index `target`."""
    if _same_wall_clock(downstream, upstream):
        return downstream._wall_index(upstream._wall_start(target + 1) - _TICK)
    return downstream.index_containing(upstream._instant_start(target + 1) - _TICK)
