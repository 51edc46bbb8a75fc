"""Build the plan of a run: every targeted unit, in topological order, with its reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..graph.graph import AssetGraph
from .staleness import Lineage, States, Unit, stale_reason
from .targets import PartitionRange, target_indices


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
class Plan:
    """Every targeted unit of a run in execution order."""

    units: tuple[PlannedUnit, ...]
    now: datetime

    @property
    def to_run(self) -> list[PlannedUnit]:
        return [unit for unit in self.units if unit.reason is not None]

    def restricted_to(self, reasons: set[str]) -> Plan:
        """Only the units that would run for one of `reasons` (e.g. `failed last time`)."""
        return Plan(tuple(u for u in self.units if u.reason in reasons), self.now)


def build_plan(
    graph: AssetGraph,
    assets: Sequence[str],
    requested: PartitionRange,
    states: States,
    now: datetime,
    force: bool = False,
    overdue: Mapping[Unit, str] | None = None,
) -> Plan:
    """Decide which units run and why, propagating staleness in topological order: a
    unit planned to run makes exactly the downstream units that read it stale.

    `overdue` names units to run although they are up to date (a freshness catch-up),
    with the reason to give."""
    lineage = Lineage(graph, now)
    planned: set[Unit] = set()
    units: list[PlannedUnit] = []
    for asset in graph.sorted(assets):
        indices = target_indices(graph[asset], requested, now)
        for index in [None] if indices is None else indices:
            key = lineage.key(asset, index)
            reason = stale_reason(lineage, asset, index, states, planned, force)
            if reason is None and overdue:
                reason = overdue.get((asset, key))
            unit = PlannedUnit(asset, key, index, reason)
            if reason is not None:
                planned.add(unit.unit)
            units.append(unit)
    return Plan(units=tuple(units), now=now)
