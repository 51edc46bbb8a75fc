"""What each alert rule finds in a run's events: a problem (opens an incident) or, for
what it watches, the absence of one (resolves the open incident). Pure functions."""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...catalog.records import AttemptStatus, MaterializationRecord, RunStatus
from ...errors import describe_unit
from .rules import AlertKind, AlertRule

if TYPE_CHECKING:
    from ...execution.report import RunReport, UnitResult
    from ...planning.freshness import FreshnessResult

UNIT_KINDS = frozenset(
    {AlertKind.UNIT_FAILED, AlertKind.CHECK_FAILED, AlertKind.VOLUME, AlertKind.SLOW}
)
MIN_HISTORY = 3  # volume: fewer earlier partitions than this say nothing about a deviation


@dataclass(frozen=True)
class Finding:
    """A rule's verdict on one thing it watches; `problem` None means all is well."""

    rule: AlertRule
    asset: str | None
    partition: str | None
    problem: str | None

    @property
    def key(self) -> str:
        """What the incident is about: one per rule and unit (or asset, or the runs)."""
        if self.asset is None:
            return f"{self.rule.name}:runs"
        return f"{self.rule.name}:{self.asset}:{self.partition or ''}"


def unit_finding(
    rule: AlertRule,
    result: UnitResult,
    record: MaterializationRecord,
    history: Sequence[int] = (),
) -> Finding | None:
    """The verdict of a unit rule on one attempt; None when the attempt says nothing about
    it (an interrupted attempt, a failure before any check ran). `history` is the rows of
    the asset's earlier materializations, newest first (volume)."""
    where = describe_unit(record.asset, record.partition)
    problem: str | None
    if record.status == AttemptStatus.INTERRUPTED:
        return None
    if rule.when == AlertKind.UNIT_FAILED:
        problem = None
        if record.status == AttemptStatus.FAILED:
            error = record.error or "no error recorded"
            if error.startswith(where):  # the recorded error names the unit already
                error = error[len(where) :].lstrip(" :").removeprefix("failed: ")
            problem = f"{where} failed after {record.attempts} attempt(s): {error}"
    elif rule.when == AlertKind.CHECK_FAILED:
        if not record.checks:
            return None
        failed = [check for check in record.checks if not check.passed]
        problem = None
        if failed:
            names = "; ".join(f"{c.name} ({c.severity}): {c.message or 'failed'}" for c in failed)
            problem = f"{where}: check(s) failed: {names}"
    elif rule.when == AlertKind.SLOW:
        limit = rule.max_seconds or 0.0
        problem = None
        if result.duration_s > limit:
            problem = f"{where} took {result.duration_s:.1f} s, more than {limit:g} s"
    elif rule.when == AlertKind.VOLUME:
        if record.status != AttemptStatus.MATERIALIZED or record.rows is None:
            return None
        problem = volume_problem(rule, record.rows, history)
        problem = None if problem is None else f"{where}: {problem}"
    else:
        return None
    return Finding(rule, record.asset, record.partition, problem)


def volume_problem(rule: AlertRule, rows: int, history: Sequence[int]) -> str | None:
    """Why `rows` is out of the rule's bounds, or too far from the history's median."""
    if rule.min_rows is not None and rows < rule.min_rows:
        return f"{rows} rows, fewer than min_rows = {_count(rule.min_rows)}"
    if rule.max_rows is not None and rows > rule.max_rows:
        return f"{rows} rows, more than max_rows = {_count(rule.max_rows)}"
    recent = list(history[: rule.history])
    if rule.max_deviation is None or len(recent) < MIN_HISTORY:
        return None
    median = statistics.median(recent)
    if median == 0:
        return None if rows == 0 else f"{rows} rows where the last {len(recent)} had a median of 0"
    deviation = abs(rows - median) / median
    if deviation > rule.max_deviation:
        return (
            f"{rows} rows, {deviation:.0%} away from the median {_count(median)} of the last "
            f"{len(recent)} materializations (max_deviation = {rule.max_deviation:g})"
        )
    return None


def _count(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def run_finding(
    rule: AlertRule, report: RunReport, selected: Collection[str] | None
) -> Finding | None:
    """A run_failed rule's verdict on a finished run: failed units of its selection open
    the incident, a run that succeeded resolves it; an interrupted run says nothing."""
    from ...execution.report import UnitStatus

    if report.status == RunStatus.INTERRUPTED:
        return None
    failed = [
        result
        for result in report.results
        if result.status == UnitStatus.FAILED and (selected is None or result.asset in selected)
    ]
    if failed:
        units = ", ".join(describe_unit(r.asset, r.partition) for r in failed[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        problem = f"run {report.run_id} failed: {len(failed)} unit(s) failed ({units}{more})"
        return Finding(rule, None, None, problem)
    if report.status == RunStatus.SUCCEEDED:
        return Finding(rule, None, None, None)
    return None


def overdue_findings(rule: AlertRule, results: Iterable[FreshnessResult]) -> list[Finding]:
    """An overdue rule's verdict on each asset's freshness."""
    from ...planning.freshness import Verdict

    findings = []
    for result in results:
        if result.verdict == Verdict.NO_POLICY:
            continue
        problem = None
        if result.verdict == Verdict.OVERDUE:
            problem = f"asset '{result.asset}' is overdue: {result.reason}"
        findings.append(Finding(rule, result.asset, None, problem))
    return findings
