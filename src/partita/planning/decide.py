"""The staleness rules as array operations: the one engine deciding why units must run.

`plan.build_plan` applies them to whole assets at once; `plan.check_unit` applies them to
one unit on its freshly read states, just before the runner runs it. See `staleness.py`
for the rules in words.
"""

from __future__ import annotations

import numpy as np

from .reasons import ReasonKind
from .state_table import FAILED_CODE, MATERIALIZED_CODE, NONE, StateTable
from .windows import Windows


def own_kinds(
    table: StateTable, start: int, stop: int, code_version: str, deps_version: str
) -> np.ndarray:
    """The reason kinds partitions [start, stop) have from their own state alone
    (missing, failed, code or dependencies changed), UP_TO_DATE where none applies."""

    # Past the recorded rows there is no row: missing, without padding any column.
    kinds = np.full(max(stop - start, 0), ReasonKind.MISSING, dtype=np.int8)
    recorded = max(min(stop, len(table)) - start, 0)
    if not recorded:
        return kinds

    def column(name: str) -> np.ndarray:
        return table.columns[name][start : start + recorded]

    status = column("status")
    deps = column("deps")  # -1: recorded before partita kept it, taken as unchanged
    own = kinds[:recorded]
    own[:] = ReasonKind.UP_TO_DATE
    # The first rule that applies wins: assigned from the last rule to the first.
    own[(deps != -1) & (deps != table.code_index(deps_version))] = ReasonKind.DEPS_CHANGED
    own[column("code") != table.code_index(code_version)] = ReasonKind.CODE_CHANGED
    own[status != MATERIALIZED_CODE] = ReasonKind.FAILED
    own[~column("published")] = ReasonKind.MISSING
    own[status == FAILED_CODE] = ReasonKind.FAILED
    own[status == NONE] = ReasonKind.MISSING
    return kinds


def upstream_kinds(
    reads: Windows,
    newest: np.ndarray,
    pending: np.ndarray | None,
    consumed: np.ndarray,
    size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per window: UPSTREAM_STALE when an upstream partition in it is about to be rebuilt
    (`pending`), else UPSTREAM_CHANGED when one was published after the reader read its
    inputs (`newest` > `consumed`), else UP_TO_DATE; and the first upstream index that
    caused it (`size` when none did)."""
    first_pending = (
        reads.first_true(pending) if pending is not None else np.full(len(consumed), size)
    )
    first_changed = _first_changed(reads, newest, consumed, size)
    first = np.minimum(first_pending, first_changed)
    kinds = np.where(
        first >= size,
        ReasonKind.UP_TO_DATE,
        np.where(
            first_pending <= first_changed,
            ReasonKind.UPSTREAM_STALE,
            ReasonKind.UPSTREAM_CHANGED,
        ),
    ).astype(np.int8)
    return kinds, first


def _first_changed(reads: Windows, newest: np.ndarray, consumed: np.ndarray, size: int):
    """Per window, the first upstream index published after the unit read its inputs
    (`size` when none was)."""
    changed = np.flatnonzero(reads.maximum(newest) > consumed)
    first = np.full(len(consumed), size, dtype=np.int64)
    if not len(changed):
        return first
    if int((reads.high - reads.low).max()) <= 1:
        first[changed] = reads.low[changed]
        return first
    for k in changed:  # only the changed windows, usually few
        low, high = int(reads.low[k]), int(reads.high[k])
        first[k] = low + int(np.argmax(newest[low:high] > consumed[k]))
    return first
