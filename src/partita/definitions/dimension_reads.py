"""What multi-dimensional partitions read of each other, dimension by dimension.

Indices put time outermost (see `partitions.multi`), so a downstream partition reads one
contiguous run of upstream indices when it reads one time partition of a run of
combinations, or every combination of a run of time partitions. `Reads` checks that a
dependency has that shape and computes the runs for many partitions at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .partitions import DynamicPartitions, Partitions, StaticPartitions
from .partitions.multi import Dimensions

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Reads:
    """How one dependency reads per dimension: the mapping of the time dimensions (None
    unless both sides have time) and, per shared non-time dimension, renamed values."""

    time_mapping: Any  # a PartitionMapping between the two time dimensions
    renames: dict[str, dict[str, str]] = field(default_factory=dict)

    def problem(self, downstream: Partitions | None, upstream: Partitions | None) -> str | None:
        """Why the downstream can't read the upstream this way; None when it can."""
        down, up = Dimensions.of(downstream), Dimensions.of(upstream)
        if self.time_mapping is not None and (down.time is None or up.time is None):
            side = "downstream" if down.time is None else "upstream"
            return f"a time mapping is given, but the {side} partitions have no time dimension"
        if self.time_mapping is not None:
            problem = self.time_mapping.validate(down.time, up.time)
            if problem is not None:
                return f"time dimension {down.time_name!r}: {problem}"
        fixed = [name for name in up.inner if name in down.inner]
        for name in fixed:
            problem = _value_problem(name, down.inner[name], up.inner[name], self.renames)
            if problem is not None:
                return problem
        free = [name for name in up.inner if name not in down.inner]
        if fixed and free and list(up.inner).index(fixed[-1]) > list(up.inner).index(free[0]):
            return (
                f"each partition would read the upstream dimension {free[0]!r} whole for one "
                f"value of {fixed[-1]!r}, which are not neighbours in the upstream's order; "
                f"declare {fixed[-1]!r} before {free[0]!r} in the upstream MultiPartitions"
            )
        if fixed and up.time is not None and not self._one_time_partition(down, up):
            return (
                f"each partition would read several time partitions of one "
                f"{', '.join(map(repr, fixed))} value, which partita can't plan yet; read "
                "the same time grain without offset, or read every value of those dimensions"
            )
        return None

    def bounds(
        self,
        downstream: Partitions | None,
        indices: np.ndarray,
        upstream: Partitions | None,
        upstream_count: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The unclipped upstream runs [first, stop) of the downstream `indices`."""
        import numpy as np

        down, up = Dimensions.of(downstream), Dimensions.of(upstream)
        size = up.combinations
        down_time, combination = np.divmod(indices, down.combinations)
        up_time_count = upstream_count // size
        if up.time is None:
            first, stop = np.zeros_like(indices), np.ones_like(indices)
        elif down.time is None:  # a dimension the downstream lacks is read whole
            first, stop = np.zeros_like(indices), np.full_like(indices, up_time_count)
        else:
            first, stop = self.time_mapping._bounds(down.time, down_time, up.time, up_time_count)
        run_first, run_width = self._runs(downstream, down, up)
        whole = run_width[combination] == size
        low = first * size + np.where(whole, 0, run_first[combination])
        partial_high = np.where(stop > first, low + run_width[combination], low)
        return low, np.where(whole, stop * size, partial_high)

    def _runs(
        self, downstream: Partitions | None, down: Dimensions, up: Dimensions
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per downstream combination, the first upstream combination it reads and how many."""
        import numpy as np

        stride, strides = 1, {}
        for name in reversed(up.inner):
            strides[name] = stride
            stride *= up.inner[name].count()
        fixed = [name for name in up.inner if name in down.inner]
        width = strides[fixed[-1]] if fixed else stride  # the free dimensions after them
        firsts = []
        for values in down.combination_values(downstream):
            first = 0
            for name in fixed:
                value = self.renames.get(name, {}).get(values[name], values[name])
                first += up.inner[name].index(value) * strides[name]
            firsts.append(first)
        return np.array(firsts, dtype=np.int64), np.full(len(firsts), width, dtype=np.int64)

    def _one_time_partition(self, down: Dimensions, up: Dimensions) -> bool:
        """Whether each downstream time partition reads at most one upstream one."""
        kind = type(self.time_mapping).__name__
        if kind == "LastPartition":
            return True
        same = down.time == up.time
        return same and (kind == "Identity" or getattr(self.time_mapping, "offset", 1) == (0, 0))


def _value_problem(
    name: str, downstream: Partitions, upstream: Partitions, renames: dict[str, dict[str, str]]
) -> str | None:
    if isinstance(upstream, DynamicPartitions) and downstream == upstream:
        return None  # the same set on both sides: every value is there
    if not isinstance(upstream, StaticPartitions):
        return (
            f"dimension {name!r} is not time on the downstream but {upstream.describe()} on "
            "the upstream; give both sides the same kind of partitions in it"
        )
    renamed = renames.get(name, {})
    missing = [
        renamed.get(key, key)
        for key in downstream.keys(0)
        if upstream.position_of(renamed.get(key, key)) is None
    ]
    if missing:
        listed = ", ".join(map(repr, missing[:5]))
        return (
            f"dimension {name!r}: the upstream values ({upstream.describe()}) lack {listed}; "
            "every downstream value must also be an upstream value (or rename it with "
            f"PerDimension({name}=StaticKeys({{...}})))"
        )
    return None
