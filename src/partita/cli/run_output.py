"""What `materialize`, `backfill` and `auto` print: the plan, and the run's report (a
run listener, so the report is printed even when the run stopped on an error)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import click

from ..catalog.records import RunStatus
from ..execution.events import RunListener
from ..execution.report import RunReport, UnitStatus
from .output import print_json, print_table

FULL_REPORT_LIMIT = 40
PLAN_ROWS_SHOWN = 200


class ReportPrinter(RunListener):
    """Prints the report when the run finishes (failed runs too, not interrupted ones): a
    table, or JSON with `as_json`. With `catch_up` (the `auto` command), a run that had
    nothing to do says so in one line."""

    def __init__(self, as_json: bool, now: datetime, *, catch_up: bool = False) -> None:
        self.as_json = as_json
        self.now = now
        self.catch_up = catch_up

    def run_finished(self, report: RunReport) -> None:
        if report.status == RunStatus.INTERRUPTED:
            return
        if self.as_json:
            print_json(report.to_json())
        elif self.catch_up and all(r.status == UnitStatus.UP_TO_DATE for r in report.results):
            click.echo(
                f"Nothing to do at {self.now.isoformat()}: all {len(report.results)} units "
                f"are up to date and nothing is overdue (run {report.run_id})."
            )
        else:
            print_report(report)


def print_plan(plan, as_json: bool, pools: list[dict] | None = None) -> None:
    """The plan as a table, or JSON (with `pools`: the concurrency pools its units use)."""
    if as_json:
        print_json(
            {
                "now": plan.now.isoformat(),
                "units": [
                    {"asset": u.asset, "partition": u.partition, "reason": str(u.reason)}
                    for u in plan.to_run
                ],
                "pools": pools or [],
            }
        )
        return
    to_run = plan.to_run_count
    if not to_run:
        click.echo(f"Nothing to do: all {plan.unit_count} units are up to date.")
        return
    # Consecutive partitions of an asset that run for the same reason share a row.
    rows = []
    for asset_plan in plan.assets:
        for first, last, count in asset_plan.runs_to_run():
            first_key, last_key = asset_plan.key(first), asset_plan.key(last)
            partition = first_key or "-"
            if count > 1:
                partition = f"{first_key} .. {last_key} ({count} partitions)"
            rows.append((asset_plan.asset, partition, str(asset_plan.reason(first))))
    hidden = len(rows) - PLAN_ROWS_SHOWN
    print_table(
        f"{to_run} of {plan.unit_count} units would run",
        ["asset", "partition", "reason"],
        rows[:PLAN_ROWS_SHOWN],
    )
    if hidden > 0:
        click.echo(f"... and {hidden} more rows: pass --json to list every unit.")


def print_report(report) -> None:
    results = report.results
    counts = report.counts()
    interesting = [r for r in results if r.status != UnitStatus.UP_TO_DATE]
    if len(interesting) <= FULL_REPORT_LIMIT:
        rows = [
            (
                r.asset,
                r.partition or "-",
                r.status,
                r.attempts or "",
                "" if r.rows is None else r.rows,
                f"{r.duration_s:.2f}s",
                _notes(r),
            )
            for r in interesting
        ]
        if rows:
            print_table(
                None,
                ["asset", "partition", "status", "attempts", "rows", "duration", "error / reason"],
                rows,
            )
    else:
        _print_asset_summary(results)
        failures = [r for r in results if r.status in (UnitStatus.FAILED, UnitStatus.SKIPPED)]
        if failures:
            print_table(
                "failed and skipped units",
                ["asset", "partition", "status", "attempts", "error / reason"],
                [
                    (r.asset, r.partition or "-", r.status, r.attempts, r.error or r.reason)
                    for r in failures
                ],
            )
    summary = ", ".join(f"{count} {status.replace('_', ' ')}" for status, count in counts.items())
    click.echo(f"run {report.run_id} {report.status}: {summary}")


def _notes(result) -> str:
    """The error, or the reason, plus any check that did not pass."""
    notes = [result.error or result.reason or ""]
    notes += [f"check {c.name} ({c.severity}): {c.message}" for c in result.checks if not c.passed]
    return "; ".join(note for note in notes if note)


def _print_asset_summary(results) -> None:
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in results:
        totals[r.asset][r.status] += 1
        totals[r.asset]["rows"] += r.rows or 0
        totals[r.asset]["duration"] += r.duration_s
    print_table(
        None,
        ["asset", "materialized", "up to date", "failed", "skipped", "rows", "duration"],
        [
            (
                asset,
                *(
                    int(t[status])
                    for status in (
                        UnitStatus.MATERIALIZED,
                        UnitStatus.UP_TO_DATE,
                        UnitStatus.FAILED,
                        UnitStatus.SKIPPED,
                    )
                ),
                int(t["rows"]),
                f"{t['duration']:.2f}s",
            )
            for asset, t in totals.items()
        ],
    )
