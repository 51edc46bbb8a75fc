"""The plan of a run: every targeted unit, in topological order, with its reason.

Plans are columnar: per asset, the targeted partition indices and a `ReasonKind` per
partition (int8), plus, for upstream reasons, which upstream partition caused it. The
reasons are decided by the rules in `decide.py`; text is only made for the units someone
looks at (`str(reason)`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property

import numpy as np

from ..catalog.records import PartitionState
from ..definitions.mappings import PartitionMapping
from ..definitions.partitions import MultiPartitions, Partitions
from ..graph.graph import AssetGraph
from .decide import own_kinds, upstream_kinds
from .reasons import FIXED_KINDS, Reason, ReasonKind
from .staleness import PlannedRead, States, Unit
from .state_table import StateTable, table_from_states
from .targets import PartitionRange, check_where, partition_count, target_indices, where_mask
from .windows import Windows, windows

_KINDS = tuple(ReasonKind)  # by value: faster than calling the enum
_CHUNK = 1 << 16  # downstream partitions checked against an upstream at once
_FIXED_REASONS = {int(kind): Reason(kind) for kind in FIXED_KINDS}


@dataclass(frozen=True)
class PlannedDependency:
    """One dependency of a planned asset: the upstream, how its partitions are read, and
    how many upstream partitions exist at the plan's `now` (1 when unpartitioned)."""

    upstream: str
    partitions: Partitions | None
    mapping: PartitionMapping
    parameter: str | None
    count: int


@dataclass(frozen=True)
class PlannedUnit:
    """One asset partition the run considers; `reason` is None when it is up to date.
    `reads` are the upstream partitions it reads, in dependency order (set on the units a
    run schedules, computed once from the plan's windows; empty otherwise)."""

    asset: str
    partition: str | None
    index: int | None
    reason: Reason | None
    reads: tuple[PlannedRead, ...] = ()

    @property
    def unit(self) -> Unit:
        return (self.asset, self.partition)


@dataclass(frozen=True)
class AssetPlan:
    """The targeted partitions of one asset and why each must run.

    Position k is partition `indices[k]` (an unpartitioned asset has one position, index 0);
    `kinds[k]` is its `ReasonKind`; for upstream reasons `via[k]` is the position of the
    dependency in `upstreams` and `via_index[k]` the upstream index; `other` holds the text
    of OVERDUE reasons (freshness catch-ups)."""

    asset: str
    partitions: Partitions | None
    indices: np.ndarray
    kinds: np.ndarray
    via: np.ndarray
    via_index: np.ndarray
    upstreams: tuple[PlannedDependency, ...] = ()
    other: Mapping[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.indices)

    def reason(self, position: int) -> Reason | None:
        """Why the partition at `position` must run; None when it is up to date."""
        return self._reason(position, int(self.kinds[position]))

    def _reason(self, position: int, code: int) -> Reason | None:
        if code == ReasonKind.UP_TO_DATE:
            return None
        fixed = _FIXED_REASONS.get(code)
        if fixed is not None:
            return fixed
        kind = _KINDS[code]
        if kind == ReasonKind.OVERDUE:
            return Reason(kind, text=self.other[position])
        dependency = self.upstreams[int(self.via[position])]
        index = int(self.via_index[position])
        key = None if dependency.partitions is None else dependency.partitions.key(index)
        return Reason(kind, dependency.upstream, key)

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

    def units(
        self, positions: np.ndarray | None = None, with_reads: bool = False
    ) -> list[PlannedUnit]:
        """The units at `positions` (default: all), in index order; `with_reads` gives the
        units to run their reads (what a run needs, not what a report needs)."""
        if positions is None:
            positions = np.arange(len(self))
        keys = self.keys(positions)
        reads: dict[int, tuple[PlannedRead, ...]] = {}
        if with_reads:
            to_run = positions[self.kinds[positions] != ReasonKind.UP_TO_DATE]
            reads = dict(zip(to_run.tolist(), self.reads(to_run), strict=True))
        codes = self.kinds[positions].tolist()
        if self.partitions is None:
            indices: list[int | None] = [None] * len(positions)
        else:
            indices = self.indices[positions].tolist()
        return [
            PlannedUnit(self.asset, key, index, self._reason(p, code), reads.get(p, ()))
            for p, key, index, code in zip(positions.tolist(), keys, indices, codes, strict=True)
        ]

    def reads(self, positions: np.ndarray) -> list[tuple[PlannedRead, ...]]:
        """What the partitions at `positions` read: per dependency, the upstream keys of
        the mapping's window, in order."""
        found: list[list[PlannedRead]] = [[] for _ in range(len(positions))]
        if not len(positions):
            return []
        indices = self.indices[positions]
        for dependency in self.upstreams:
            mapped = dependency.mapping.windows(
                self.partitions, indices, dependency.partitions, dependency.count
            )
            first = int(mapped.low.min())
            last = max(int(mapped.high.max()), first)
            if dependency.partitions is None:
                keys: list[str | None] = [None] * (last - first)
            else:
                keys = list(dependency.partitions.keys(first, last))
            for k, (low, high) in enumerate(
                zip(mapped.low.tolist(), mapped.high.tolist(), strict=True)
            ):
                found[k].extend(
                    PlannedRead(dependency.upstream, key, dependency.parameter)
                    for key in keys[low - first : high - first]
                )
        return [tuple(reads) for reads in found]

    def runs_to_run(self) -> list[tuple[int, int, int]]:
        """The units to run grouped into runs of consecutive partitions with the same
        reason, as (first position, last position, count); for multi-dimensional
        partitions, consecutive time partitions of one combination of the other dimensions."""
        positions = np.flatnonzero(self.kinds != ReasonKind.UP_TO_DATE)
        if not len(positions):
            return []
        group, step = self.groups(positions)
        order = np.lexsort((step, group))
        positions, group, step = positions[order], group[order], step[order]
        following = positions[1:]
        same_run = (
            (np.diff(step) == 1)
            & (np.diff(group) == 0)
            & (np.diff(self.kinds[positions]) == 0)
            & (np.diff(self.via[positions]) == 0)
            & (np.diff(self.via_index[positions]) == 0)
            & (self.kinds[following] != ReasonKind.OVERDUE)
        )
        starts = np.concatenate([[0], np.flatnonzero(~same_run) + 1])
        ends = np.append(starts[1:], len(positions)) - 1
        return [
            (int(positions[a]), int(positions[b]), int(b - a + 1))
            for a, b in zip(starts, ends, strict=True)
        ]

    def groups(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per position, its combination of the non-time dimensions (0 unless multi-
        dimensional) and its step along time (its index otherwise)."""
        indices = self.indices[positions]
        if isinstance(self.partitions, MultiPartitions):
            step, group = np.divmod(indices, self.partitions.combinations)
            return group, step
        return np.zeros_like(indices), indices

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
        """Every targeted unit (one object each: for runs, not for planning at scale);
        those to run carry their reads."""
        return tuple(unit for plan in self.assets for unit in plan.units(with_reads=True))

    @property
    def to_run(self) -> list[PlannedUnit]:
        return [
            unit
            for plan in self.assets
            for unit in plan.units(np.flatnonzero(plan.kinds != ReasonKind.UP_TO_DATE))
        ]

    @property
    def unit_count(self) -> int:
        return sum(len(plan) for plan in self.assets)

    @property
    def to_run_count(self) -> int:
        return sum(int(np.count_nonzero(plan.kinds)) for plan in self.assets)

    def asset_plan(self, asset: str) -> AssetPlan | None:
        return next((plan for plan in self.assets if plan.asset == asset), None)

    def restricted_to(self, kinds: Iterable[ReasonKind]) -> Plan:
        """Only the units that would run for one of the reason `kinds` (e.g. `--retry-failed`
        keeps `ReasonKind.FAILED`)."""
        wanted = [int(kind) for kind in kinds]
        return Plan(
            tuple(plan.subset(np.isin(plan.kinds, wanted)) for plan in self.assets), self.now
        )

    def restricted_to_units(self, units: Iterable[Unit]) -> Plan:
        """Only the given units (a daemon tick runs exactly what it requested)."""
        wanted: dict[str, set[str | None]] = {}
        for asset, key in units:
            wanted.setdefault(asset, set()).add(key)
        kept = []
        for plan in self.assets:
            keys = wanted.get(plan.asset, set())
            if plan.partitions is None:
                keep = np.full(len(plan), None in keys)
            else:
                indices = [plan.partitions.index(key) for key in keys if key is not None]
                keep = np.isin(plan.indices, np.array(indices, dtype=np.int64))
            kept.append(plan.subset(keep))
        return Plan(tuple(kept), self.now)


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
    for name in tables_needed(graph, assets):  # fail fast on a `now` out of range
        partition_count(graph[name], now)
    check_where([graph[name] for name in assets], requested.where)
    planned: dict[str, np.ndarray] = {}  # per asset, a flag per partition index
    plans = []
    for asset in graph.sorted(assets):
        target = target_indices(graph[asset], requested, now)
        span = range(0, 1) if target is None else target
        plan = _plan_asset(graph, asset, span, tables, now, force, planned)
        kept = where_mask(graph[asset], plan.indices, requested.where)
        if kept is not None:
            plan = plan.subset(kept)
        if overdue:
            plan = _with_overdue(plan, overdue)
        flags = np.zeros(_count(graph, asset, now), dtype=bool)
        flags[plan.indices[plan.kinds != ReasonKind.UP_TO_DATE]] = True
        planned[asset] = flags
        plans.append(plan)
    return Plan(tuple(plans), now)


def check_unit(
    graph: AssetGraph, planned: PlannedUnit, states: States, force: bool = False
) -> Reason | None:
    """The planner's decision for one unit on its freshly read `states` (its own and those
    of what it reads): what the runner asks just before the unit runs, to skip a unit
    another run has brought up to date (early cutoff)."""
    if force:
        return Reason(ReasonKind.FORCED)
    state = states.get(planned.asset, {}).get(planned.partition)
    own = {} if state is None else {None: replace(state, partition=None)}
    table = table_from_states(None, own)  # one row, index 0: this unit
    kind = own_kinds(
        table, 0, 1, graph[planned.asset].code_version, graph.deps_version(planned.asset)
    )
    if kind[0] != ReasonKind.UP_TO_DATE:
        return Reason(ReasonKind(int(kind[0])))
    consumed = table.column("consumed_seq", 1)
    for dep in graph.dependencies[planned.asset]:
        keys = [read.partition for read in planned.reads if read.asset == dep.upstream]
        published = states.get(dep.upstream, {})
        newest = np.array([_newest(published.get(key)) for key in keys], dtype=np.int64)
        reads = Windows(np.zeros(1, np.int64), np.full(1, len(keys), np.int64))
        kinds, first = upstream_kinds(reads, newest, None, consumed, len(keys))
        restored = np.array([_restored(published.get(key)) for key in keys], dtype=bool)
        _mark_restored(kinds, first, restored)
        if kinds[0] != ReasonKind.UP_TO_DATE:
            return Reason(ReasonKind(int(kinds[0])), dep.upstream, keys[int(first[0])])
    return None


def _mark_restored(kinds: np.ndarray, first: np.ndarray, restored: np.ndarray) -> None:
    """Turn `upstream changed` into `upstream restored` where the upstream partition that
    changed holds data a restore brought back (in place)."""
    changed = np.flatnonzero(kinds == ReasonKind.UPSTREAM_CHANGED)
    if len(changed) and restored.any():
        hit = changed[restored[first[changed]]]
        kinds[hit] = ReasonKind.UPSTREAM_RESTORED


def _restored(state: PartitionState | None) -> bool:
    return state is not None and state.data_version is not None and state.restored


def _newest(state: PartitionState | None) -> int:
    """The sequence at which a partition's current data was published, 0 when none is."""
    return 0 if state is None or state.data_version is None else state.published_seq


def _count(graph: AssetGraph, asset: str, now: datetime) -> int:
    """How many partition indices the asset has at `now` (one if unpartitioned)."""
    return partition_count(graph[asset], now)


def _plan_asset(
    graph: AssetGraph,
    asset: str,
    span: range,
    tables: Mapping[str, StateTable],
    now: datetime,
    force: bool,
    planned: Mapping[str, np.ndarray],
) -> AssetPlan:
    definition = graph[asset]
    indices = np.arange(span.start, span.stop, dtype=np.int64)
    dependencies = graph.dependencies[asset]
    upstreams = tuple(
        PlannedDependency(
            dep.upstream,
            graph[dep.upstream].partitions,
            dep.mapping,
            dep.parameter,
            _count(graph, dep.upstream, now),
        )
        for dep in dependencies
    )
    via = np.zeros(len(indices), dtype=np.int16)
    via_index = np.zeros(len(indices), dtype=np.int64)
    if force:
        kinds = np.full(len(indices), ReasonKind.FORCED, dtype=np.int8)
        return AssetPlan(asset, definition.partitions, indices, kinds, via, via_index, upstreams)
    table = tables.get(asset) or StateTable.empty()
    kinds = own_kinds(
        table, span.start, span.stop, definition.code_version, graph.deps_version(asset)
    )
    consumed = table.window("consumed_seq", span.start, span.stop)
    # In chunks of partitions: each chunk's temporaries stay small (and reused), and so do
    # the slices of upstream columns its windows read, however many partitions there are.
    for start in range(0, len(indices), _CHUNK):
        for position, dependency in enumerate(upstreams):
            chunk = start + np.flatnonzero(kinds[start : start + _CHUNK] == ReasonKind.UP_TO_DATE)
            if not len(chunk):
                break
            found, first = _upstream_chunk(
                definition.partitions,
                indices[chunk],
                consumed[chunk],
                dependency,
                tables.get(dependency.upstream) or StateTable.empty(),
                planned.get(dependency.upstream),
            )
            hit = found != ReasonKind.UP_TO_DATE
            chosen = chunk[hit]
            kinds[chosen] = found[hit]
            via[chosen] = position
            via_index[chosen] = first[hit]
    return AssetPlan(asset, definition.partitions, indices, kinds, via, via_index, upstreams)


def _upstream_chunk(
    partitions: Partitions | None,
    indices: np.ndarray,
    consumed: np.ndarray,
    dependency: PlannedDependency,
    upstream: StateTable,
    pending: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """`upstream_kinds` of the partitions `indices` for one dependency, computed on the
    upstream indices their windows span only; `first` as an upstream index."""
    size = dependency.count
    reads = windows(dependency.mapping, partitions, indices, dependency.partitions, size)
    low, high = reads.span()
    local = Windows(reads.low - low, reads.high - low)
    published = upstream.window("published", low, high)
    newest = upstream.window("published_seq", low, high)
    if not published.all():
        newest = np.where(published, newest, 0)
    found, first = upstream_kinds(
        local, newest, None if pending is None else pending[low:high], consumed, high - low
    )
    _mark_restored(found, first, upstream.window("restored", low, high))
    return found, first + low


def _with_overdue(plan: AssetPlan, overdue: Mapping[Unit, str]) -> AssetPlan:
    """Up-to-date units named in `overdue` get its reason (`plan` is being built: its
    kinds are changed in place)."""
    other = dict(plan.other)
    for (asset, key), reason in overdue.items():
        if asset != plan.asset:
            continue
        index = None if plan.partitions is None or key is None else plan.partitions.index(key)
        position = plan.position_of(index)
        if position is not None and plan.kinds[position] == ReasonKind.UP_TO_DATE:
            plan.kinds[position] = ReasonKind.OVERDUE
            other[position] = reason
    return replace(plan, other=other)
