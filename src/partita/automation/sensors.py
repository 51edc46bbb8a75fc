"""Finding a project's sensors and running those due at a tick.

Sensors are found in the asset modules the session imported. Each runs when its `every`
has passed since it last returned; its cursor is stored only when the tick is recorded.
A sensor that raises gives an error for the tick and keeps its cursor and schedule, so it
runs again at the next tick; it never stops the daemon.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from dataclasses import dataclass
from datetime import datetime

from ..app.dynamic_partitions import add_partitions
from ..app.requests import PlanRequest
from ..app.session import Session
from ..definitions.sensors import SensorContext, SensorDefinition, SensorResult
from ..discovery import PACKAGE_PREFIX

SENSOR_CURSOR = "sensor:"
Unit = tuple[str, str | None]


@dataclass(frozen=True)
class SensorOutcome:
    """One sensor's run at a tick: its result (or the error it raised) and the cursor value
    to store (its new cursor and when it ran)."""

    name: str
    result: SensorResult | None
    error: str | None
    cursor: str | None
    cursor_name: str

    def units(self, session: Session, now: datetime) -> list[Unit]:
        """The units the sensor's requests name (SelectionError/PartitionError when a
        request names no asset or a key the asset does not have)."""
        units: list[Unit] = []
        for request in self.result.requests if self.result else ():
            names = session.select(list(request.selection)) if request.selection else []
            if request.dynamic is not None:
                names += [
                    n
                    for n in session.graph.order
                    if getattr(session.graph[n].partitions, "name", None) == request.dynamic
                ]
            for name in names:
                partitions = session.graph[name].partitions
                if partitions is None or request.partitions is None:
                    units.append((name, None) if partitions is None else (name, "*"))
                    continue
                for key in request.partitions:
                    partitions.index(key)  # PartitionError for a key it does not have
                    units.append((name, key))
        return [unit for unit in units if unit[1] != "*"] + _every_key(session, units, now)


def _every_key(session: Session, units: list[Unit], now: datetime) -> list[Unit]:
    """The partitions needing work of assets requested without keys."""
    names = sorted({name for name, key in units if key == "*"})
    if not names:
        return []
    plan = session.plan(PlanRequest(selection=tuple(names), now=now))
    return [unit.unit for unit in plan.to_run]


def discover_sensors(session: Session) -> list[SensorDefinition]:
    """The sensors defined in the project's asset modules (imported by the session)."""
    assets_dir = str(session.config.assets_dir)
    package = PACKAGE_PREFIX + hashlib.sha1(assets_dir.encode()).hexdigest()[:10]
    found: dict[str, SensorDefinition] = {}
    for module_name, module in sorted(sys.modules.items()):
        if module_name != package and not module_name.startswith(package + "."):
            continue
        for value in vars(module).values():
            if isinstance(value, SensorDefinition) and value.name not in found:
                found[value.name] = value
    return [found[name] for name in sorted(found)]


def run_sensors(session: Session, now: datetime) -> list[SensorOutcome]:
    """Run the sensors due at `now` (see the module)."""
    return [
        outcome
        for sensor in discover_sensors(session)
        if (outcome := run_sensor(session, sensor, now)) is not None
    ]


def run_sensor(session: Session, sensor: SensorDefinition, now: datetime) -> SensorOutcome | None:
    """Run one sensor if due; None when it is not."""
    cursor_name = SENSOR_CURSOR + sensor.name
    stored = json.loads(session.catalog.cursor(cursor_name) or "{}")
    last = stored.get("evaluated_at")
    if last is not None and now - datetime.fromisoformat(last) < sensor.every:
        return None
    context = SensorContext(
        sensor=sensor.name,
        cursor=stored.get("cursor"),
        now=now,
        root=session.root,
        log=logging.getLogger(f"partita.sensors.{sensor.name}"),
    )
    try:
        result = sensor.evaluate(context)
        for name, keys in result.new_keys.items():
            if keys:
                # Before the tick is recorded: a daemon killed in between adds them again,
                # which changes nothing (keys already in the set are left where they are).
                add_partitions(session, name, tuple(keys))
    except Exception as error:
        message = f"sensor '{sensor.name}' failed: {type(error).__name__}: {error}"
        return SensorOutcome(sensor.name, None, message, None, cursor_name)
    cursor = result.cursor if result.cursor is not None else context.cursor
    value = json.dumps({"cursor": cursor, "evaluated_at": now.isoformat()})
    return SensorOutcome(sensor.name, result, None, value, cursor_name)
