"""Which upstream partitions each downstream partition reads, for many partitions at once.

Every partition mapping reads a contiguous run of upstream indices, so the reads of a
range of downstream partitions are two arrays, `low` and `high` (half-open), and questions
about them (is any of them about to be rebuilt? what is the newest data among them?) are
answered for all partitions at once with prefix tricks and a sparse table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..definitions.mappings import PartitionMapping
from ..definitions.partitions import Partitions


@dataclass(frozen=True)
class Windows:
    """The upstream index range [low[k], high[k]) read by the k-th downstream partition."""

    low: np.ndarray
    high: np.ndarray

    def first_true(self, flags: np.ndarray) -> np.ndarray:
        """Per window, the first index whose flag is set; `len(flags)` when there is none."""
        size = len(flags)
        if not len(self.low):
            return np.full(0, size, dtype=np.int64)
        # Only the span the windows cover: a chunk of windows reads a small part of flags.
        start, stop = self.span()
        covered = flags[start:stop]
        if not covered.any():
            return np.full(len(self.low), size, dtype=np.int64)
        following = np.where(covered, np.arange(start, stop), size)
        following = np.minimum.accumulate(following[::-1])[::-1]
        following = np.append(following, size)  # an empty window starting at the end
        first = following[np.minimum(self.low, stop) - start]
        return np.where(first < self.high, first, size)

    def maximum(self, values: np.ndarray) -> np.ndarray:
        """Per window, the greatest of `values` in it; 0 for an empty window (values >= 0)."""
        width = self.high - self.low
        present = width > 0
        if not present.any():
            return np.zeros(len(width), dtype=values.dtype)
        start, stop = self.span()
        values = values[start:stop]
        low = self.low - start
        everywhere = bool(present.all())
        if not everywhere:
            low, width = low[present], width[present]
        found = _maxima(values, low, width)
        if everywhere:
            return found
        result = np.zeros(len(present), dtype=values.dtype)
        result[present] = found
        return result

    def span(self) -> tuple[int, int]:
        """The upstream indices [start, stop) some window covers (or starts at)."""
        start = int(self.low.min())
        return start, max(int(self.high.max()), start)


def _maxima(values: np.ndarray, low: np.ndarray, width: np.ndarray) -> np.ndarray:
    """The greatest of values[low[k] : low[k] + width[k]] per k (every width > 0)."""
    widest = int(width.max())
    if widest == 1:
        return values[low]
    if np.all(low[1:] >= low[:-1] + width[:-1]):  # in order, not overlapping: one pass
        padded = np.append(values, values.dtype.type(0))  # a window may end at the end
        bounds = np.empty(2 * len(low), dtype=np.int64)
        bounds[0::2], bounds[1::2] = low, low + width
        return np.maximum.reduceat(padded, bounds)[0::2]
    # A sparse table: level k holds the maxima of the 2**k values starting at each index,
    # so any window is the maximum of two (overlapping) entries of one level.
    levels = [values]
    while 2 ** len(levels) <= widest:
        half = 2 ** (len(levels) - 1)
        previous = levels[-1]
        levels.append(np.maximum(previous[:-half], previous[half:]))
    level = np.floor(np.log2(width)).astype(np.int64)
    found = np.empty(len(width), dtype=values.dtype)
    for k in np.unique(level):
        chosen = level == k
        table, start = levels[k], low[chosen]
        found[chosen] = np.maximum(table[start], table[start + width[chosen] - 2**k])
    return found


def windows(
    mapping: PartitionMapping,
    downstream: Partitions | None,
    indices: np.ndarray,
    upstream: Partitions | None,
    upstream_count: int,
) -> Windows:
    """The upstream windows the mapping gives the downstream partitions `indices`
    (an unpartitioned side is one partition, index 0)."""
    mapped = mapping.windows(downstream, indices, upstream, upstream_count)
    return Windows(mapped.low, mapped.high)
