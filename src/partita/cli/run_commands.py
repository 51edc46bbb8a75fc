"""Commands that write data: `materialize` and `backfill`."""

from __future__ import annotations

import logging
import sys
from collections import defaultdict

import click

from ..errors import EXIT_FAILED, EXIT_OK
from ..execution.interrupts import TERMINATED_EXIT, Terminated
from ..planning.staleness import FAILED as FAILED_LAST_TIME
from .context import CliState, json_option, now_option, parse_now, selection_argument
from .output import print_json, print_table
from .progress import RunProgress

INTERRUPTED_EXIT = 130
FULL_REPORT_LIMIT = 40
PLAN_ROWS_SHOWN = 200


def _configure_logging(debug: bool) -> None:
    logger = logging.getLogger("partita")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)
    # What asset functions log through context.log is for the user: show it.
    logging.getLogger("partita.assets").setLevel(logging.DEBUG if debug else logging.INFO)


def workers_option(function):
    return click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Run this many independent units at once, in separate processes.",
    )(function)


def run_options(function):
    """Options shared by `materialize` and `backfill`."""
    function = click.option(
        "--force", is_flag=True, help="Rebuild every targeted partition, stale or not."
    )(function)
    function = click.option(
        "--plan",
        "plan_only",
        is_flag=True,
        help="Print each unit that would run and why; run nothing.",
    )(function)
    function = workers_option(function)
    function = click.option(
        "--order",
        type=click.Choice(["oldest-first", "newest-first"]),
        default="oldest-first",
        show_default=True,
        help="Which partitions to start first; newest-first restores recent data first.",
    )(function)
    function = click.option(
        "--retry-failed", is_flag=True, help="Rerun only the units whose last attempt failed."
    )(function)
    function = click.option(
        "--no-wait",
        is_flag=True,
        help="Report units another run is working on as locked instead of waiting for them.",
    )(function)
    function = click.option(
        "--max-failures",
        type=click.IntRange(min=1),
        metavar="N",
        help="Stop starting new units after N failures; the rest are reported skipped.",
    )(function)
    return json_option(now_option(function))


@click.command("materialize")
@selection_argument
@click.option("--partition", metavar="KEY", help="Only this partition (in each selected asset).")
@click.option("--from", "first", metavar="KEY", help="First partition key (inclusive).")
@click.option("--to", "last", metavar="KEY", help="Last partition key (inclusive).")
@run_options
@click.pass_obj
def materialize_command(state: CliState, selection, partition, first, last, **options) -> None:
    """Materialize the partitions of the selection that are missing or stale.

    With no partition option, every partition from each asset's start up to the latest
    complete one at --now. A key of another granularity selects the partitions that
    overlap it (a day selects its month in a monthly asset). Exit code 0 when nothing
    failed, 1 when a unit failed, 2 on usage or definition errors.
    """
    if partition and (first or last):
        raise click.UsageError("give either --partition or --from/--to, not both")
    if partition:
        first = last = partition
    _run(state, selection, first, last, command_name="materialize", **options)


@click.command("backfill")
@click.argument("selection", nargs=-1, required=True, metavar="SELECTION...")
@click.option("--from", "first", metavar="KEY", required=True, help="First key (inclusive).")
@click.option("--to", "last", metavar="KEY", required=True, help="Last key (inclusive).")
@run_options
@click.pass_obj
def backfill_command(state: CliState, selection, first, last, **options) -> None:
    """Materialize a range of partitions with a progress bar.

    Only what is missing or stale runs, so re-running after an interruption or a
    failure does only what remains.
    """
    _run(state, selection, first, last, command_name="backfill", **options)


def _run(
    state: CliState,
    selection: tuple[str, ...],
    first: str | None,
    last: str | None,
    *,
    command_name: str,
    force: bool,
    plan_only: bool,
    now: str | None,
    as_json: bool,
    workers: int,
    order: str,
    retry_failed: bool,
    max_failures: int | None,
    no_wait: bool = False,
    overdue: bool = False,
) -> None:
    project = state.project
    moment = parse_now(now)
    partition = (first, last) if first or last else None
    catch_up = project.overdue_units(list(selection), now=moment) if overdue else None
    if plan_only:
        plan = project.plan(list(selection), partition, force=force, now=moment, overdue=catch_up)
        if retry_failed:
            plan = plan.restricted_to({FAILED_LAST_TIME})
        _print_plan(plan, as_json)
        return
    _configure_logging(state.debug)
    command = " ".join(["partita", *sys.argv[1:]])[:500]
    progress = RunProgress(enabled=not as_json)
    try:
        with progress:
            report = project.materialize(
                list(selection),
                partition,
                force=force,
                now=moment,
                workers=workers,
                order=order,
                retry_failed=retry_failed,
                max_failures=max_failures,
                wait=not no_wait,
                overdue=catch_up,
                command=command,
                on_plan=progress.start,
                on_unit_done=progress.advance,
            )
    except KeyboardInterrupt as interrupt:
        terminated = isinstance(interrupt, Terminated)
        click.echo(
            f"{'terminated (SIGTERM)' if terminated else 'interrupted'}: the unit in progress "
            "was not recorded as materialized and the run is recorded as interrupted. Run the "
            "same command again to do what remains.",
            err=True,
        )
        sys.exit(TERMINATED_EXIT if terminated else INTERRUPTED_EXIT)
    if as_json:
        print_json(report.to_json())
    elif overdue and not any(r.status != "up_to_date" for r in report.results):
        click.echo(
            f"Nothing to do at {moment.isoformat()}: all {len(report.results)} units are up "
            f"to date and nothing is overdue (run {report.run_id})."
        )
    else:
        _print_report(report)
    sys.exit(EXIT_FAILED if report.failed else EXIT_OK)


def _print_plan(plan, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "now": plan.now.isoformat(),
                "units": [
                    {"asset": u.asset, "partition": u.partition, "reason": u.reason}
                    for u in plan.to_run
                ],
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
        for first, last in asset_plan.runs_to_run():
            first_key, last_key = asset_plan.key(first), asset_plan.key(last)
            count = last - first + 1
            partition = first_key or "-"
            if count > 1:
                partition = f"{first_key} .. {last_key} ({count} partitions)"
            rows.append((asset_plan.asset, partition, asset_plan.reason(first)))
    hidden = len(rows) - PLAN_ROWS_SHOWN
    print_table(
        f"{to_run} of {plan.unit_count} units would run",
        ["asset", "partition", "reason"],
        rows[:PLAN_ROWS_SHOWN],
    )
    if hidden > 0:
        click.echo(f"... and {hidden} more rows: pass --json to list every unit.")


def _print_report(report) -> None:
    results = report.results
    counts = report.counts()
    interesting = [r for r in results if r.status != "up_to_date"]
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
        failures = [r for r in results if r.status in ("failed", "skipped")]
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
                int(t["materialized"]),
                int(t["up_to_date"]),
                int(t["failed"]),
                int(t["skipped"]),
                int(t["rows"]),
                f"{t['duration']:.2f}s",
            )
            for asset, t in totals.items()
        ],
    )


@click.command("auto")
@selection_argument
@now_option
@click.option("--dry-run", is_flag=True, help="Print what would run and why; run nothing.")
@workers_option
@json_option
@click.pass_obj
def auto_command(state: CliState, selection, now, dry_run: bool, workers: int, as_json: bool):
    """Catch up: materialize everything missing, stale or overdue up to the latest complete
    partition at --now. What an hourly cron entry calls; with nothing to do, it does nothing.
    """
    _run(
        state,
        selection,
        None,
        None,
        command_name="auto",
        force=False,
        plan_only=dry_run,
        now=now,
        as_json=as_json,
        workers=workers,
        order="oldest-first",
        retry_failed=False,
        max_failures=None,
        overdue=True,
    )
