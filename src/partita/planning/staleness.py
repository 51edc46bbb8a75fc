"""Staleness vocabulary: what a unit reads, and the reasons it must run.

A partition is up to date unless it was never materialized, its last attempt failed, its
code version changed, its dependencies (or their mappings) changed, an upstream partition
it reads got new data after it read its inputs, an upstream partition it reads is itself
about to be rebuilt, or the run is forced. "New data" is compared by catalog sequence
numbers: each partition's `published_seq` (when its current data version was first
published) against the reader's `consumed_seq` (the catalog sequence as of which it read
its inputs). Data versions are content hashes and an identical rebuild keeps
`published_seq`, so it leaves everything downstream up to date (early cutoff). Data that
changes and then changes back (A, B, then A again) rebuilds the readers once.

The one engine deciding this is `plan.py` (whole assets at once; `plan.check_unit` runs it
on one unit's fresh states just before the unit runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..catalog.records import ConsumedInput, PartitionState
from .reasons import CODE_CHANGED, DEPS_CHANGED, FAILED, FORCED, MISSING

States = Mapping[str, Mapping[str | None, PartitionState]]
Unit = tuple[str, str | None]

__all__ = [
    "CODE_CHANGED",
    "DEPS_CHANGED",
    "FAILED",
    "FORCED",
    "MISSING",
    "PlannedRead",
    "States",
    "Unit",
    "UpstreamRead",
    "consumed_inputs",
]


@dataclass(frozen=True)
class PlannedRead:
    """One upstream partition a planned unit reads (key None: unpartitioned), through
    `parameter` when the asset takes the data."""

    asset: str
    partition: str | None
    parameter: str | None

    @property
    def unit(self) -> Unit:
        return (self.asset, self.partition)


@dataclass(frozen=True)
class UpstreamRead:
    """One upstream partition a unit reads, with the data version published now and the
    catalog sequence at which it was published (0 when nothing is)."""

    asset: str
    partition: str | None
    data_version: str | None
    parameter: str | None
    published_seq: int = 0


def upstream_reads(reads: tuple[PlannedRead, ...], states: States) -> tuple[UpstreamRead, ...]:
    """The planned reads with the data versions `states` says are published now."""
    found = []
    for read in reads:
        state = states.get(read.asset, {}).get(read.partition)
        if state is None or state.data_version is None:
            found.append(UpstreamRead(read.asset, read.partition, None, read.parameter))
        else:
            found.append(
                UpstreamRead(
                    read.asset,
                    read.partition,
                    state.data_version,
                    read.parameter,
                    state.published_seq,
                )
            )
    return tuple(found)


def consumed_inputs(reads: list[UpstreamRead]) -> tuple[ConsumedInput, ...]:
    """What a successful materialization records as read (published upstream data only)."""
    return tuple(
        ConsumedInput(r.asset, r.partition, r.data_version)
        for r in reads
        if r.data_version is not None
    )
