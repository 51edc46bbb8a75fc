"""Sensors: functions the daemon calls on a schedule to react to the outside world.

A sensor receives a `SensorContext` (its cursor, stored in the catalog, and `now`) and
returns a `SensorResult`: run requests (a selection and partitions), new keys for named
dynamic partition sets, and its new cursor. The cursor advances only when the sensor
returns, so a sensor that raises is recorded in the tick and retried on its next one.
`FileSensor` is the built-in one: one new key (the file's stem) per new file.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .policies import parse_duration

DEFAULT_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SensorRequest:
    """Materialize `selection` (selection syntax); `partitions` are keys (None: what
    needs work in every partition). `dynamic` names a dynamic partition set: its assets
    are added to the selection."""

    selection: tuple[str, ...]
    partitions: tuple[str, ...] | None = None
    dynamic: str | None = None

    def __init__(
        self,
        selection: Sequence[str] | str = (),
        partitions: Sequence[str] | None = None,
        dynamic: str | None = None,
    ) -> None:
        object.__setattr__(
            self, "selection", (selection,) if isinstance(selection, str) else tuple(selection)
        )
        object.__setattr__(self, "partitions", None if partitions is None else tuple(partitions))
        object.__setattr__(self, "dynamic", dynamic)


@dataclass(frozen=True)
class SensorResult:
    """What a sensor returns: run requests, new keys per dynamic partition set (by the
    set's name), and the new cursor (None keeps the previous one)."""

    requests: tuple[SensorRequest, ...] = ()
    new_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    cursor: str | None = None


@dataclass(frozen=True)
class SensorContext:
    """What a sensor is called with: its stored cursor, the evaluation time, the project."""

    sensor: str
    cursor: str | None
    now: datetime
    root: Path
    log: logging.Logger


@dataclass(frozen=True, eq=False)
class SensorDefinition:
    """A declared sensor: its name, function and how often it runs."""

    name: str
    fn: Callable[[SensorContext], Any]
    every: timedelta
    module: str
    problems: tuple[str, ...] = ()

    def evaluate(self, context: SensorContext) -> SensorResult:
        """Call the sensor; a list of requests or None are accepted as results."""
        result = self.fn(context)
        if result is None:
            return SensorResult(cursor=context.cursor)
        if isinstance(result, SensorRequest):
            return SensorResult((result,), cursor=context.cursor)
        if isinstance(result, list | tuple):
            return SensorResult(tuple(result), cursor=context.cursor)
        if not isinstance(result, SensorResult):
            raise TypeError(
                f"sensor '{self.name}' returned {type(result).__name__}; return a "
                "SensorResult, a list of SensorRequest, or None"
            )
        return result


def sensor(fn: Callable[..., Any] | None = None, /, *, every: Any = DEFAULT_EVERY, name=None):
    """Declare a sensor: `@sensor(every="1m")` on a function of a `SensorContext`."""

    def define(function: Callable[..., Any]) -> SensorDefinition:
        problems: tuple[str, ...] = ()
        interval = DEFAULT_EVERY
        try:
            interval = parse_duration(every)
        except ValueError as error:
            problems = (f"every=: {error}",)
        return SensorDefinition(
            name=name or function.__name__,
            fn=function,
            every=interval,
            module=getattr(function, "__module__", "") or "",
            problems=problems,
        )

    return define(fn) if fn is not None else define


class FileSensor(SensorDefinition):
    """Adds one partition key (the file's stem) per new file matching `pattern` (a glob
    relative to the project folder) to the dynamic partition set `partitions`, and
    requests `selection` (default: the assets using that set) for the new keys.

    The cursor is the sorted list of files seen, as JSON."""

    def __init__(
        self,
        pattern: str,
        partitions: Any,
        *,
        selection: Sequence[str] | str | None = None,
        every: Any = DEFAULT_EVERY,
        name: str | None = None,
    ) -> None:
        self.pattern = pattern
        self.partitions_name = getattr(partitions, "name", None) or str(partitions)
        self.selection = selection
        super().__init__(
            name=name or f"files_{_slug(pattern)}",
            fn=self._scan,
            every=parse_duration(every),
            module="",
        )

    def _scan(self, context: SensorContext) -> SensorResult:
        seen = set(json.loads(context.cursor)) if context.cursor else set()
        matched = sorted(
            str(path.relative_to(context.root))
            for path in context.root.glob(self.pattern)
            if path.is_file() and fnmatch.fnmatch(str(path.relative_to(context.root)), self.pattern)
        )
        new = [path for path in matched if path not in seen]
        if not new:
            return SensorResult(cursor=context.cursor)
        keys = tuple(Path(path).stem for path in new)
        if self.selection:
            request = SensorRequest(self.selection, keys)
        else:
            request = SensorRequest((), keys, dynamic=self.partitions_name)
        return SensorResult(
            requests=(request,),
            new_keys={self.partitions_name: keys},
            cursor=json.dumps(sorted(seen | set(new))),
        )


def _slug(pattern: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in pattern).strip("_") or "files"
