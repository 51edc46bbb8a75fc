"""The outcome of a run: one result per unit, as a table or as JSON."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from ..catalog.records import CheckResult, RunStatus


class UnitStatus(StrEnum):
    """How a unit ended in a run (its attempt, if any, has an `AttemptStatus`)."""

    MATERIALIZED = "materialized"
    UP_TO_DATE = "up_to_date"
    FAILED = "failed"
    SKIPPED = "skipped"  # an upstream unit failed, or the circuit breaker opened
    LOCKED = "locked"  # another run held it (--no-wait)


@dataclass(frozen=True)
class UnitResult:
    """How one asset partition ended in a run."""

    asset: str
    partition: str | None
    status: UnitStatus
    reason: str | None
    attempts: int = 0
    rows: int | None = None
    duration_s: float = 0.0
    error: str | None = None
    checks: tuple[CheckResult, ...] = ()


@dataclass(frozen=True)
class RunReport:
    """Every unit result of a run; `status` is succeeded, failed or interrupted."""

    run_id: str
    results: tuple[UnitResult, ...]
    status: RunStatus

    @property
    def failed(self) -> bool:
        return any(result.status == UnitStatus.FAILED for result in self.results)

    def counts(self) -> dict[str, int]:
        """Units per status; `locked` appears only when a unit was locked."""
        counter = Counter(result.status for result in self.results)
        counts = {status: counter.get(status, 0) for status in UnitStatus}
        if not counts[UnitStatus.LOCKED]:
            del counts[UnitStatus.LOCKED]
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "counts": self.counts(),
            "results": [
                {
                    **asdict(result),
                    "duration_s": round(result.duration_s, 4),
                    "checks": [asdict(check) for check in result.checks],
                }
                for result in self.results
            ],
        }
