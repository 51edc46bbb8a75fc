"""The inline executor: each job runs at once, in the runner's process, one at a time."""

from __future__ import annotations

from collections import deque

from ..execution.unit import UnitJob, UnitOutcome, Workspace
from ..planning.staleness import Unit


class InlineExecutor:
    """Executes each job immediately, in this process, one at a time."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._done: deque[tuple[Unit, UnitOutcome]] = deque()

    def has_capacity(self, in_flight: int) -> bool:
        return in_flight == 0

    def submit(self, unit: Unit, job: UnitJob) -> None:
        self._done.append((unit, self.workspace.execute(job)))

    def next_done(self) -> tuple[Unit, UnitOutcome]:
        return self._done.popleft()

    def close(self) -> None:
        self._done.clear()
