"""One tick's evaluation: automation conditions, observable sources due, sensors due.

Reads the catalog and calls sensors, writes nothing: the daemon records the result (the
requests and the cursors, in one transaction) before it launches anything.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from ..app.requests import PlanRequest
from ..app.session import Session
from ..catalog.automation_records import RequestedUnit
from ..definitions.partitions import Partitions
from ..definitions.policies import format_duration
from ..errors import PartitaError
from ..planning.plan import AssetPlan
from ..planning.reasons import ReasonKind
from ..planning.state_table import StateTable, load_state_tables
from ..planning.targets import partition_count
from ..planning.windows import windows
from .evaluate import AssetSituation, AutomationCursor, evaluate
from .sensors import SensorOutcome, run_sensors

log = logging.getLogger("partita")

Unit = tuple[str, str | None]
ASSET_CURSOR = "asset:"
SOURCE_CURSOR = "source:"


@dataclass
class TickPlan:
    """What a tick evaluated and requested, the cursors to store with it, its errors."""

    evaluated: list[str] = field(default_factory=list)
    requested: dict[Unit, str] = field(default_factory=dict)
    cursors: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    forced: set[Unit] = field(default_factory=set)  # run although up to date

    def request(self, unit: Unit, why: str, force: bool = False) -> None:
        self.requested[unit] = ", ".join(filter(None, [self.requested.get(unit), why]))
        if force:
            self.forced.add(unit)

    def units(self) -> list[RequestedUnit]:
        return [
            RequestedUnit(a, p, why, (a, p) in self.forced)
            for (a, p), why in self.requested.items()
        ]


def evaluate_tick(
    session: Session,
    now: datetime,
    selection: Sequence[str] = (),
    in_flight: Iterable[Unit] = (),
) -> TickPlan:
    """Evaluate sources, conditions and sensors at `now`; units in flight (requested by a
    tick not finished yet) are not requested again."""
    graph = session.graph
    selected = session.select(list(selection) or None)
    busy = set(in_flight)
    tick = TickPlan()
    for name in (n for n in selected if graph[n].observable):
        _observe_if_due(session, name, now, busy, tick)
    automated = [n for n in selected if graph[n].automation is not None]
    if automated:
        try:
            plan = session.plan(PlanRequest(selection=tuple(automated), now=now))
        except PartitaError as error:
            tick.errors.append(f"planning the automated assets failed: {error.format()}")
            plan = None
        for name in automated if plan is not None else ():
            _evaluate_asset(session, plan.asset_plan(name), now, busy, tick)
    for outcome in run_sensors(session, now):
        _apply_sensor(session, outcome, now, busy, tick)
    return tick


def _observe_if_due(
    session: Session, name: str, now: datetime, busy: set[Unit], tick: TickPlan
) -> None:
    definition = session.graph[name]
    tick.evaluated.append(name)
    cursor_name = SOURCE_CURSOR + name
    every = definition.observe_every
    observed = ObservedAt.loads(session.catalog.cursor(cursor_name))
    wall = datetime.now(UTC)
    if not observed.due(now, wall, every):
        return
    for key in _all_keys(definition.partitions, now):
        if (name, key) not in busy:
            tick.request((name, key), f"observe every {format_duration(every)}", force=True)
    tick.cursors[cursor_name] = ObservedAt(now, wall).dumps()


@dataclass(frozen=True)
class ObservedAt:
    """When a source was last observed: at which evaluation time, and at which real time.
    A source is due when `every` passed on either clock: polling external data is a real
    time matter, so a daemon with a fixed `--now` still observes its sources."""

    at: datetime
    wall: datetime | None = None

    def due(self, now: datetime, wall: datetime, every: timedelta) -> bool:
        if now - self.at >= every:
            return True
        return self.wall is not None and wall - self.wall >= every

    def dumps(self) -> str:
        wall = None if self.wall is None else self.wall.isoformat()
        return json.dumps({"at": self.at.isoformat(), "wall": wall})

    @classmethod
    def loads(cls, text: str | None) -> ObservedAt:
        """The stored cursor; a minimal one (never observed: due) when there is none. An
        older cursor holds only the evaluation time."""
        if not text:
            return cls(datetime.min.replace(tzinfo=UTC))
        if not text.startswith("{"):
            return cls(datetime.fromisoformat(text))
        data = json.loads(text)
        wall = data.get("wall")
        return cls(datetime.fromisoformat(data["at"]), wall and datetime.fromisoformat(wall))


def _evaluate_asset(
    session: Session, plan: AssetPlan | None, now: datetime, busy: set[Unit], tick: TickPlan
) -> None:
    if plan is None:
        return
    name = plan.asset
    definition = session.graph[name]
    tick.evaluated.append(name)
    count = partition_count(definition, now)
    kinds = np.zeros(count, dtype=np.int8)
    stale_requested = np.zeros(count, dtype=bool)
    positions = plan.indices if plan.partitions is not None else np.zeros(len(plan), np.int64)
    kinds[positions] = plan.kinds
    for position in np.flatnonzero(plan.kinds == ReasonKind.UPSTREAM_STALE):
        reason = plan.reason(int(position))
        unit = (reason.upstream, reason.upstream_key)
        stale_requested[positions[position]] = unit in tick.requested
    keys = _all_keys(plan.partitions, now) if plan.partitions is not None else [None]
    excluded = np.array([(name, key) in busy for key in keys], dtype=bool)
    cursor_name = ASSET_CURSOR + name
    cursor = AutomationCursor.loads(session.catalog.cursor(cursor_name))
    tables = load_state_tables(session.catalog, session.graph, [d.upstream for d in plan.upstreams])
    situation = AssetSituation(
        partitions=plan.partitions,
        kinds=kinds,
        now=now,
        cursor=cursor,
        upstream_requested=stale_requested,
        upstream_new=_published_since(tables, plan, count, cursor.sequence),
        inputs_missing=_inputs_missing(tables, plan, count, tick.requested),
        sequence=session.catalog.sequence(),
        excluded=excluded,
    )
    decision = evaluate(definition.automation, situation)
    for index, why in zip(decision.indices, decision.why, strict=True):
        tick.request((name, keys[index]), why, force=kinds[index] == ReasonKind.UP_TO_DATE)
    tick.cursors[cursor_name] = decision.cursor.dumps()


def _published_since(
    tables: Mapping[str, StateTable], plan: AssetPlan, count: int, sequence: int | None
) -> np.ndarray | None:
    """Per partition index: an upstream partition it reads was published after `sequence`."""
    if sequence is None:
        return None
    indices = np.arange(count, dtype=np.int64)
    new = np.zeros(count, dtype=bool)
    for dependency in plan.upstreams:
        table = tables[dependency.upstream]
        size = dependency.count
        published = np.where(
            table.column("published", size), table.column("published_seq", size), 0
        )
        reads = windows(dependency.mapping, plan.partitions, indices, dependency.partitions, size)
        new |= reads.maximum(published) > sequence
    return new


def _inputs_missing(
    tables: Mapping[str, StateTable],
    plan: AssetPlan,
    count: int,
    requested: Mapping[Unit, str],
) -> np.ndarray:
    """Per partition index: a partition it reads holds no data and is not requested in
    this tick (by an asset evaluated before: the run would build it first)."""
    indices = np.arange(count, dtype=np.int64)
    missing = np.zeros(count, dtype=bool)
    for dependency in plan.upstreams:
        size = dependency.count
        absent = ~tables[dependency.upstream].column("published", size).astype(bool)
        for asset, key in requested:
            if asset != dependency.upstream:
                continue
            index = 0 if dependency.partitions is None else dependency.partitions.index(key)
            if index < size:
                absent[index] = False
        reads = windows(dependency.mapping, plan.partitions, indices, dependency.partitions, size)
        missing |= reads.maximum(absent.astype(np.int8)) > 0
    return missing


def _apply_sensor(
    session: Session, outcome: SensorOutcome, now: datetime, busy: set[Unit], tick: TickPlan
) -> None:
    tick.evaluated.append(f"sensor:{outcome.name}")
    if outcome.error is not None:
        tick.errors.append(outcome.error)
        return
    try:
        units = outcome.units(session, now)
    except PartitaError as error:
        tick.errors.append(f"sensor '{outcome.name}' asked for {error.format()}")
        return
    for unit in units:
        if unit not in busy:
            tick.request(unit, f"sensor {outcome.name}", force=True)
    if outcome.cursor is not None:
        tick.cursors[outcome.cursor_name] = outcome.cursor


def _all_keys(partitions: Partitions | None, now: datetime) -> list[str | None]:
    if partitions is None:
        return [None]
    return list(partitions.keys(0, partitions.count(now)))
