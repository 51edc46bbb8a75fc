"""Run events: what a run tells its observers (progress bar, report, UI, lineage, alerts).

A `RunListener` hears a run start (with its plan), each unit start and finish (with the
attempt's full record), and the run finish (with its report). Listeners are called in the
coordinator process, in order, while the run waits: keep them quick.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..catalog.records import MaterializationRecord
    from ..planning.plan import Plan, PlannedUnit
    from .report import RunReport, UnitResult

log = logging.getLogger("partita")


class RunListener:
    """Observes runs. Override the events you need; each does nothing by default."""

    def run_started(self, run_id: str, plan: Plan) -> None:
        """The run was recorded and is about to start the units of `plan`."""

    def unit_started(self, run_id: str, unit: PlannedUnit, reason: str) -> None:
        """A unit was leased and handed to an executor, to run for `reason`."""

    def unit_waiting(self, run_id: str, unit: PlannedUnit, reason: str) -> None:
        """A unit ready to run waits (`waiting for pool NAME`); told once per unit."""

    def unit_finished(
        self, run_id: str, result: UnitResult, record: MaterializationRecord | None
    ) -> None:
        """A unit ended. `record` is what the catalog recorded for an attempt (inputs read
        with their data versions, data version written, rows, bytes, checks, attempts,
        error); None when the unit was not attempted (up to date, skipped, locked)."""

    def run_finished(self, report: RunReport) -> None:
        """The run ended (succeeded, failed or interrupted) with this report."""


class Listeners(RunListener):
    """Several listeners heard in order. A listener that raises is logged and does not
    stop the run or the other listeners: observing never changes what a run does."""

    def __init__(self, listeners: Iterable[RunListener] = ()) -> None:
        self.listeners = tuple(listeners)

    def run_started(self, run_id: str, plan: Plan) -> None:
        for listener in self.listeners:
            _call(listener, "run_started", run_id, plan)

    def unit_started(self, run_id: str, unit: PlannedUnit, reason: str) -> None:
        for listener in self.listeners:
            _call(listener, "unit_started", run_id, unit, reason)

    def unit_waiting(self, run_id: str, unit: PlannedUnit, reason: str) -> None:
        for listener in self.listeners:
            _call(listener, "unit_waiting", run_id, unit, reason)

    def unit_finished(
        self, run_id: str, result: UnitResult, record: MaterializationRecord | None
    ) -> None:
        for listener in self.listeners:
            _call(listener, "unit_finished", run_id, result, record)

    def run_finished(self, report: RunReport) -> None:
        for listener in self.listeners:
            _call(listener, "run_finished", report)


def _call(listener: RunListener, event: str, *arguments: object) -> None:
    try:
        getattr(listener, event)(*arguments)
    except Exception:
        log.exception("run listener %s failed on %s", type(listener).__name__, event)
