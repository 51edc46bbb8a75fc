"""A progress bar on stderr for runs: done/total, failures and an ETA. Only on a terminal."""

from __future__ import annotations

import sys
from typing import Any

from ..execution.events import RunListener
from ..execution.report import UnitStatus


class RunProgress(RunListener):
    """A rich progress bar driven by run events; silent when not a terminal."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None
        self.failures = 0

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop()

    def run_finished(self, report: Any) -> None:
        self._stop()  # before the report is printed

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def run_started(self, run_id: str, plan: Any) -> None:
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]materializing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failures]} failed"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[waiting]}"),
            console=Console(stderr=True),
        )
        self._task = self._progress.add_task("run", total=plan.unit_count, failures=0, waiting="")
        self._progress.start()

    def unit_waiting(self, run_id: str, unit: Any, reason: str) -> None:
        if self._progress is not None:  # e.g. `waiting for pool warehouse_db`
            self._progress.update(self._task, waiting=reason)

    def unit_started(self, run_id: str, unit: Any, reason: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, waiting="")

    def unit_finished(self, run_id: str, result: Any, record: Any) -> None:
        if self._progress is None:
            return
        if result.status == UnitStatus.FAILED:
            self.failures += 1
        self._progress.update(self._task, advance=1, failures=self.failures)
