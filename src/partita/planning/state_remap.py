"""Carrying a state snapshot over when dynamic dimensions of multi-dimensional partitions
gained keys at their end.

`MultiPartitions` numbers partition `time * combinations + combination`, the combinations
of the non-time dimensions in declaration order (the last varying fastest), so adding keys
to a dynamic dimension changes `combinations` and so the index of almost every partition,
and the layout with it. No row of the catalog changed though: each old index has exactly
one new index, computed here for all rows at once, instead of rebuilding the snapshot from
every catalog row. Any other change of layout (keys placed before others or removed, other
dimensions) is not carried over: the snapshot is rebuilt from the rows.
"""

from __future__ import annotations

import ast
import math

import numpy as np

from ..definitions.partitions import MultiPartitions, Partitions

_PREFIX = "MultiPartitions"


def renumbering(
    length: int, old_layout: str, partitions: Partitions | None
) -> tuple[np.ndarray, int] | None:
    """For the `length` rows of a table kept in `old_layout`, the index of each in the
    current layout of `partitions` and the new table's length; None when the layouts
    differ by more than keys appended to dynamic dimensions."""
    sizes = _sizes(old_layout, partitions)
    if sizes is None:
        return None
    old_sizes, new_sizes = sizes
    old_combinations, new_combinations = math.prod(old_sizes), math.prod(new_sizes)
    if not length or not old_combinations:
        return np.zeros(0, dtype=np.int64), 0
    step, combination = np.divmod(np.arange(length, dtype=np.int64), old_combinations)
    renumbered = np.zeros(length, dtype=np.int64)
    weight = old_combinations
    for old_size, new_size in zip(old_sizes, new_sizes, strict=True):
        weight //= old_size
        value = (combination // weight) % old_size  # this dimension's key index
        renumbered = renumbered * new_size + value
    return step * new_combinations + renumbered, int(step[-1] + 1) * new_combinations


def _sizes(old_layout: str, partitions: Partitions | None) -> tuple[list[int], list[int]] | None:
    """The key counts of the non-time dimensions in the old and the current layout, when
    they differ only by keys appended to dynamic dimensions."""
    if not isinstance(partitions, MultiPartitions) or not old_layout.startswith(_PREFIX):
        return None
    current = partitions.layout()
    if old_layout == current:
        return None
    try:
        old = ast.literal_eval(old_layout[len(_PREFIX) :])
        new = ast.literal_eval(current[len(_PREFIX) :])
    except (ValueError, SyntaxError):
        return None
    if not isinstance(old, tuple) or len(old) != len(new):
        return None
    old_sizes, new_sizes = [], []
    for before, after in zip(old, new, strict=True):
        if not isinstance(before, tuple) or len(before) != 3 or before[:2] != after[:2]:
            return None  # another dimension, or another generation of a dynamic one
        name, _, signature = after
        if name == partitions.time_name:
            continue
        if before[2] == signature:
            size = partitions.dimensions[name].count()
            old_sizes.append(size)
            new_sizes.append(size)
        elif _appended(before[2], signature):
            old_sizes.append(before[2][1])
            new_sizes.append(signature[1])
        else:
            return None
    return old_sizes, new_sizes


def _appended(before: object, after: object) -> bool:
    """Whether dynamic signature `after` (generation, key count) only added keys at the end."""
    return (
        isinstance(before, tuple)
        and isinstance(after, tuple)
        and len(before) == len(after) == 2
        and before[0] == after[0]
        and isinstance(before[1], int)
        and before[1] <= after[1]
    )
