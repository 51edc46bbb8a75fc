"""Build the plan of a run: every targeted unit, in topological order, with its reason.

Planning works on whole assets at once: the states are columns (`StateTable`), the reads
of a range of partitions are index windows, and each reason is a small integer kind plus,
for upstream reasons, which upstream partition caused it. Text is only made for the units
someone looks at. The rules are those of `staleness.stale_reason`, which the runner
applies to one unit before it runs it; tests hold the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property

import numpy as np

from ..definitions.partitions import Partitions
from ..errors import unit_label
from ..graph.graph import AssetGraph
from .staleness import CODE_CHANGED, DEPS_CHANGED, FAILED, FORCED, MISSING, Unit
from .state_table import FAILED_CODE, MATERIALIZED_CODE, NONE, StateTable
from .targets import PartitionRange, target_indices
from .windows import windows

# Reason kinds, in the order the checks run; 0 is up to date.
UP_TO_DATE, FORCED_KIND, MISSING_KIND, FAILED_KIND, CODE_KIND, DEPS_KIND = range(6)
UPSTREAM_STALE_KIND, UPSTREAM_CHANGED_KIND, OTHER_KIND = range(6, 9)
_FIXED_REASONS = {
    FORCED_KIND: FORCED,
    MISSING_KIND: MISSING,
    FAILED_KIND: FAILED,
    CODE_KIND: CODE_CHANGED,
    DEPS_KIND: DEPS_CHANGED,
}
_UPSTREAM_REASONS = {
    UPSTREAM_STALE_KIND: "upstream stale",
    UPSTREAM_CHANGED_KIND: "upstream changed",
}


@dataclass(frozen=True)
class PlannedUnit:
    """One asset partition the run considers; `reason` is None when it is up to date."""

    asset: str
    partition: str | None
    index: int | None
    reason: str | None

    @property
    def unit(self) -> Unit:
        return (self.asset, self.partition)


@dataclass(frozen=True)
class AssetPlan:
    """The targeted partitions of one asset and why each must run.

    Position k is partition `indices[k]` (an unpartitioned asset has one position, index 0);
    `kinds[k]` is its reason kind; for upstream reasons `via[k]` is the position of the
    dependency in `upstreams` and `via_index[k]` the upstream index; `other` holds the text
    of OTHER_KIND reasons (overdue catch-ups)."""

    asset: str
    partitions: Partitions | None
    indices: np.ndarray
    kinds: np.ndarray
    via: np.ndarray
    via_index: np.ndarray
    upstreams: tuple[tuple[str, Partitions | None], ...] = ()
    other: Mapping[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.indices)

    def reason(self, position: int) -> str | None:
        kind = int(self.kinds[position])
        if kind == UP_TO_DATE:
            return None
        if kind in _FIXED_REASONS:
            return _FIXED_REASONS[kind]
        if kind == OTHER_KIND:
            return self.other[position]
        upstream, partitions = self.upstreams[int(self.via[position])]
        index = int(self.via_index[position])
        key = None if partitions is None else partitions.key(index)
        return f"{_UPSTREAM_REASONS[kind]}: {unit_label(upstream, key)}"

    def index(self, position: int) -> int | None:
        return None if self.partitions is None else int(self.indices[position])

    def key(self, position: int) -> str | None:
        return None if self.partitions is None else self.partitions.key(self.index(position))

    def keys(self, positions: np.ndarray) -> list[str | None]:
        """The partition keys at `positions` (ascending), formatted in bulk."""
        if self.partitions is None:
            return [None] * len(positions)
        if not len(positions):
            return []
        indices = self.indices[positions]
        first, last = int(indices[0]), int(indices[-1])
        if len(indices) * 4 < last - first:  # sparse: format one by one
            return [self.partitions.key(int(i)) for i in indices]
        keys = self.partitions.keys(first, last + 1)
        return [keys[int(i) - first] for i in indices]

    def units(self, positions: np.ndarray | None = None) -> list[PlannedUnit]:
        """The units at `positions` (default: all), in index order."""
        if positions is None:
            positions = np.arange(len(self))
        keys = self.keys(positions)
        return [
            PlannedUnit(self.asset, key, self.index(int(p)), self.reason(int(p)))
            for p, key in zip(positions, keys, strict=True)
        ]

    def runs_to_run(self) -> list[tuple[int, int]]:
        """The units to run grouped into runs of consecutive partitions with the same
        reason, as (first, last) positions."""
        positions = np.flatnonzero(self.kinds != UP_TO_DATE)
        if not len(positions):
            return []
        following = positions[1:]
        same_run = (
            (np.diff(self.indices[positions]) == 1)
            & (np.diff(self.kinds[positions]) == 0)
            & (np.diff(self.via[positions]) == 0)
            & (np.diff(self.via_index[positions]) == 0)
            & (self.kinds[following] != OTHER_KIND)
        )
        starts = np.concatenate([[0], np.flatnonzero(~same_run) + 1])
        ends = np.append(starts[1:], len(positions)) - 1
        return [(int(positions[a]), int(positions[b])) for a, b in zip(starts, ends, strict=True)]

    def position_of(self, index: int | None) -> int | None:
        """The position of partition `index` in this plan, None when it is not targeted."""
        if self.partitions is None:
            return 0 if index is None else None
        if index is None or not len(self.indices):
            return None
        position = int(np.searchsorted(self.indices, index))
        found = position < len(self.indices) and self.indices[position] == index
        return position if found else None

    def subset(self, keep: np.ndarray) -> AssetPlan:
        """Only the positions where `keep` is true."""
        positions = np.flatnonzero(keep)
        renumbered = {
            int(new): self.other[int(old)]
            for new, old in enumerate(positions)
            if int(old) in self.other
        }
        return replace(
            self,
            indices=self.indices[positions],
            kinds=self.kinds[positions],
            via=self.via[positions],
            via_index=self.via_index[positions],
            other=renumbered,
        )


@dataclass(frozen=True)
class Plan:
    """Every targeted unit of a run, asset by asset in execution order."""

    assets: tuple[AssetPlan, ...]
    now: datetime

    @cached_property
    def units(self) -> tuple[PlannedUnit, ...]:
        """Every targeted unit (one object each: for runs, not for planning at scale)."""
        return tuple(unit for plan in self.assets for unit in plan.units())

    @property
    def to_run(self) -> list[PlannedUnit]:
        return [
            unit
            for plan in self.assets
            for unit in plan.units(np.flatnonzero(plan.kinds != UP_TO_DATE))
        ]

    @property
    def unit_count(self) -> int:
        return sum(len(plan) for plan in self.assets)

    @property
    def to_run_count(self) -> int:
        return sum(int(np.count_nonzero(plan.kinds)) for plan in self.assets)

    def asset_plan(self, asset: str) -> AssetPlan | None:
        return next((plan for plan in self.assets if plan.asset == asset), None)

    def restricted_to(self, reasons: set[str]) -> Plan:
        """Only the units that would run for one of `reasons` (e.g. `failed last time`)."""
        kinds = [kind for kind, text in _FIXED_REASONS.items() if text in reasons]
        restricted = []
        for plan in self.assets:
            if len(kinds) == len(reasons):  # fixed reasons only: compare kinds, not text
                keep = np.isin(plan.kinds, kinds)
            else:
                keep = np.array([plan.reason(p) in reasons for p in range(len(plan))], bool)
            restricted.append(plan.subset(keep))
        return Plan(tuple(restricted), self.now)


def tables_needed(graph: AssetGraph, assets: Iterable[str]) -> set[str]:
    """The assets whose states planning `assets` reads: them and their direct upstream."""
    needed = set(assets)
    for asset in list(needed):
        needed.update(dep.upstream for dep in graph.dependencies[asset])
    return needed


def build_plan(
    graph: AssetGraph,
    assets: Sequence[str],
    requested: PartitionRange,
    tables: Mapping[str, StateTable],
    now: datetime,
    force: bool = False,
    overdue: Mapping[Unit, str] | None = None,
) -> Plan:
    """Decide which units run and why, propagating staleness in topological order: a
    unit planned to run makes exactly the downstream units that read it stale.

    `tables` holds the states of the assets and of their direct upstream (missing ones
    count as never materialized). `overdue` names units to run although they are up to
    date (a freshness catch-up), with the reason to give."""
    planned: dict[str, np.ndarray] = {}  # per asset, a flag per partition index
    plans = []
    for asset in graph.sorted(assets):
        plan = _plan_asset(graph, asset, requested, tables, now, force, planned)
        if overdue:
            plan = _with_overdue(plan, overdue)
        flags = np.zeros(_count(graph, asset, now), dtype=bool)
        flags[plan.indices[plan.kinds != UP_TO_DATE]] = True
        planned[asset] = flags
        plans.append(plan)
    return Plan(tuple(plans), now)


def _count(graph: AssetGraph, asset: str, now: datetime) -> int:
    """How many partition indices the asset has at `now` (one if unpartitioned)."""
    partitions = graph[asset].partitions
    return 1 if partitions is None else partitions.count(now)


def _plan_asset(
    graph: AssetGraph,
    asset: str,
    requested: PartitionRange,
    tables: Mapping[str, StateTable],
    now: datetime,
    force: bool,
    planned: Mapping[str, np.ndarray],
) -> AssetPlan:
    definition = graph[asset]
    target = target_indices(definition, requested, now)
    span = range(0, 1) if target is None else target
    indices = np.arange(span.start, span.stop, dtype=np.int64)
    dependencies = graph.dependencies[asset]
    upstreams = tuple((dep.upstream, graph[dep.upstream].partitions) for dep in dependencies)
    kinds = np.zeros(len(indices), dtype=np.int8)
    via = np.zeros(len(indices), dtype=np.int16)
    via_index = np.zeros(len(indices), dtype=np.int64)
    plan = AssetPlan(asset, definition.partitions, indices, kinds, via, via_index, upstreams)
    if force:
        kinds[:] = FORCED_KIND
        return plan
    table = tables.get(asset) or StateTable.empty()

    def column(name: str) -> np.ndarray:
        return table.column(name, span.stop)[span.start :]

    status = column("status")
    published = column("published")
    deps = column("deps")  # -1: recorded before partita kept it, taken as unchanged
    kinds[:] = np.select(
        [
            status == NONE,
            status == FAILED_CODE,
            ~published,
            status != MATERIALIZED_CODE,
            column("code") != table.code_index(definition.code_version),
            (deps != -1) & (deps != table.code_index(graph.deps_version(asset))),
        ],
        [MISSING_KIND, FAILED_KIND, MISSING_KIND, FAILED_KIND, CODE_KIND, DEPS_KIND],
        UP_TO_DATE,
    )
    consumed = column("consumed_seq")
    for position, dep in enumerate(dependencies):
        undecided = np.flatnonzero(kinds == UP_TO_DATE)
        if not len(undecided):
            break
        upstream_table = tables.get(dep.upstream) or StateTable.empty()
        size = _count(graph, dep.upstream, now)
        reads = windows(
            definition.partitions,
            indices[undecided],
            graph[dep.upstream].partitions,
            dep.offset,
            size,
        )
        newest = np.where(
            upstream_table.column("published", size),
            upstream_table.column("published_seq", size),
            0,
        )
        pending = planned.get(dep.upstream)
        first_pending = (
            reads.first_true(pending) if pending is not None else np.full(len(undecided), size)
        )
        first_changed = _first_changed(reads, newest, consumed[undecided], size)
        first = np.minimum(first_pending, first_changed)
        hit = first < size
        chosen = undecided[hit]
        kinds[chosen] = np.where(
            first_pending[hit] <= first_changed[hit], UPSTREAM_STALE_KIND, UPSTREAM_CHANGED_KIND
        )
        via[chosen] = position
        via_index[chosen] = first[hit]
    return plan


def _first_changed(reads, newest: np.ndarray, consumed: np.ndarray, size: int) -> np.ndarray:
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


def _with_overdue(plan: AssetPlan, overdue: Mapping[Unit, str]) -> AssetPlan:
    """Up-to-date units named in `overdue` get its reason (`plan` is being built: its
    kinds are changed in place)."""
    other = dict(plan.other)
    for (asset, key), reason in overdue.items():
        if asset != plan.asset:
            continue
        index = None if plan.partitions is None or key is None else plan.partitions.index(key)
        position = plan.position_of(index)
        if position is not None and plan.kinds[position] == UP_TO_DATE:
            plan.kinds[position] = OTHER_KIND
            other[position] = reason
    return replace(plan, other=other)
