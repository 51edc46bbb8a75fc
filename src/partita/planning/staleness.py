"""Staleness: is this partition up to date, and if not, why? Pure functions, no I/O.

A partition is up to date unless it was never materialized, its last attempt failed, its
code version changed, its dependencies (or their offsets) changed, an upstream partition
it reads got new data after it read its inputs, an upstream partition it reads is itself
about to be rebuilt, or the run is forced. "New data" is compared by catalog sequence
numbers: each partition's `published_seq` (when its current data version was first
published) against the reader's `consumed_seq` (the catalog sequence as of which it read
its inputs). Data versions are content hashes and an identical rebuild keeps
`published_seq`, so it leaves everything downstream up to date (early cutoff). Data that
changes and then changes back (A, B, then A again) rebuilds the readers once.

This module decides one unit at a time (the runner, just before running it);
`plan.build_plan` applies the same rules to whole assets at once.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from ..catalog.records import AttemptStatus, ConsumedInput, PartitionState
from ..definitions.mappings import upstream_indices
from ..errors import unit_label
from ..graph.graph import AssetGraph

States = Mapping[str, Mapping[str | None, PartitionState]]
Unit = tuple[str, str | None]

MISSING = "missing"
FAILED = "failed last time"
CODE_CHANGED = "code changed"
DEPS_CHANGED = "dependencies changed"
FORCED = "forced"


@dataclass(frozen=True)
class UpstreamRead:
    """One upstream partition a unit reads, with the data version published now and the
    catalog sequence at which it was published (0 when nothing is)."""

    asset: str
    partition: str | None
    data_version: str | None
    parameter: str | None
    published_seq: int = 0


class Lineage:
    """Answers, for one `now`, which upstream partitions each unit reads."""

    def __init__(self, graph: AssetGraph, now: datetime) -> None:
        self.graph = graph
        self.now = now
        self._counts: dict[str, int] = {}
        self._keys: dict[str, list[str]] = {}
        self._deps_versions: dict[str, str] = {}

    def deps_version(self, asset: str) -> str:
        if asset not in self._deps_versions:
            self._deps_versions[asset] = self.graph.deps_version(asset)
        return self._deps_versions[asset]

    def count(self, asset: str) -> int:
        """How many partitions of a partitioned asset exist at `now`."""
        if asset not in self._counts:
            partitions = self.graph[asset].partitions
            self._counts[asset] = partitions.count(self.now) if partitions else 0
        return self._counts[asset]

    def key(self, asset: str, index: int | None) -> str | None:
        partitions = self.graph[asset].partitions
        if partitions is None or index is None:
            return None
        keys = self._keys.get(asset)
        if keys is None:
            # Formatting keys dominates planning: do it once per asset, in bulk.
            keys = self._keys[asset] = partitions.keys(0, self.count(asset))
        return keys[index] if 0 <= index < len(keys) else partitions.key(index)

    def reads(self, asset: str, index: int | None, states: States) -> Iterator[UpstreamRead]:
        """Every upstream partition the unit (asset, index) reads, in dependency order."""
        definition = self.graph[asset]
        for dep in self.graph.dependencies[asset]:
            upstream = self.graph[dep.upstream]
            published = states.get(dep.upstream, {})
            indices = upstream_indices(
                definition.partitions,
                index,
                upstream.partitions,
                dep.offset,
                self.count(dep.upstream),
            )
            keys = [None] if indices is None else [self.key(dep.upstream, i) for i in indices]
            for key in keys:
                state = published.get(key)
                if state is None or state.data_version is None:
                    yield UpstreamRead(dep.upstream, key, None, dep.parameter)
                else:
                    yield UpstreamRead(
                        dep.upstream, key, state.data_version, dep.parameter, state.published_seq
                    )


def stale_reason(
    lineage: Lineage,
    asset: str,
    index: int | None,
    states: States,
    pending: Container[Unit],
    force: bool = False,
) -> str | None:
    """Why the unit must run, or None when it is up to date.

    `pending` holds the units that will run before this one in the same run; an
    upstream partition among them makes this unit stale until it has run.
    """
    if force:
        return FORCED
    key = lineage.key(asset, index)
    state = states.get(asset, {}).get(key)
    if state is None:
        return MISSING
    # A failed last attempt says so even when nothing was ever published (status counts it
    # as failed, not missing); an interrupted first attempt published nothing: missing.
    if state.last_status == AttemptStatus.FAILED:
        return FAILED
    if state.data_version is None:
        return MISSING
    if state.last_status != AttemptStatus.MATERIALIZED:
        return FAILED
    if state.code_version != lineage.graph[asset].code_version:
        return CODE_CHANGED
    if state.deps_version is not None and state.deps_version != lineage.deps_version(asset):
        return DEPS_CHANGED
    for read in lineage.reads(asset, index, states):
        if (read.asset, read.partition) in pending:
            return f"upstream stale: {unit_label(read.asset, read.partition)}"
        if read.published_seq > state.consumed_seq:
            return f"upstream changed: {unit_label(read.asset, read.partition)}"
    return None


def consumed_inputs(reads: list[UpstreamRead]) -> tuple[ConsumedInput, ...]:
    """What a successful materialization records as read (published upstream data only)."""
    return tuple(
        ConsumedInput(r.asset, r.partition, r.data_version)
        for r in reads
        if r.data_version is not None
    )
