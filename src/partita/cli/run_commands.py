"""Commands that write data: `materialize` and `backfill`."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace

import click

from ..app.requests import RunRequest, partition_range
from ..errors import EXIT_FAILED, EXIT_OK
from ..execution.interrupts import TERMINATED_EXIT, Terminated
from ..execution.log_context import configure_logging
from ..urls import redact_urls
from .context import CliState, json_option, now_option, parse_now, selection_argument
from .partitions_commands import parse_where, where_option
from .pool_output import pool_summary, print_pool_waits
from .progress import RunProgress
from .run_output import ReportPrinter, print_plan

INTERRUPTED_EXIT = 130


def configure_run_logging(state: CliState) -> None:
    """Logging for a command that runs units: `--debug` and `--log-format` applied."""
    level = logging.DEBUG if state.debug else logging.WARNING
    # What asset functions log through context.log is for the user: show it.
    configure_logging(state.log_format, level, logging.DEBUG if state.debug else logging.INFO)


def workers_option(function):
    return click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Run this many independent units at once, in separate processes.",
    )(function)


def executor_option(function):
    return click.option(
        "--executor",
        default=None,
        metavar="process|dask|tcp://HOST:PORT",
        help="Where units run: local processes (the default), a local Dask cluster of"
        " --workers processes, or an existing Dask scheduler. Default: `executor` under"
        " [tool.partita], else PARTITA_EXECUTOR, else process.",
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
    function = executor_option(workers_option(function))
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
    function = where_option(function)
    function = click.option(
        "--defer-to",
        metavar="ENV",
        help="Read the upstream assets outside the selection (unchanged in code) from "
        "environment ENV's warehouse instead of rebuilding them; ENV is never written.",
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
    executor: str | None,
    retry_failed: bool,
    max_failures: int | None,
    no_wait: bool = False,
    overdue: bool = False,
    where: tuple[str, ...] = (),
    defer_to: str | None = None,
) -> None:
    session = state.session
    moment = parse_now(now)
    partitions = partition_range((first, last) if first or last else None)
    request = RunRequest(
        selection=selection,
        partitions=replace(partitions, where=parse_where(where)),
        force=force,
        now=moment,
        retry_failed=retry_failed,
        catch_up=overdue,
        workers=workers,
        executor=executor,
        order=order,
        max_failures=max_failures,
        wait=not no_wait,
        defer_to=defer_to,
        command=redact_urls(" ".join(["partita", *sys.argv[1:]]))[:500],
    )
    if plan_only:
        _print_plan(session, request, as_json)
        return
    configure_run_logging(state)
    printer = ReportPrinter(as_json, moment, catch_up=overdue)
    try:
        with RunProgress(enabled=not as_json) as progress:
            report = session.run(request, [progress, printer])
    except KeyboardInterrupt as interrupt:
        terminated = isinstance(interrupt, Terminated)
        click.echo(
            f"{'terminated (SIGTERM)' if terminated else 'interrupted'}: the unit in progress "
            "was not recorded as materialized and the run is recorded as interrupted. Run the "
            "same command again to do what remains.",
            err=True,
        )
        sys.exit(TERMINATED_EXIT if terminated else INTERRUPTED_EXIT)
    sys.exit(EXIT_FAILED if report.failed else EXIT_OK)


def _print_plan(session, request: RunRequest, as_json: bool) -> None:
    plan = session.plan(request)
    if as_json:
        print_plan(plan, as_json, pools=pool_summary(session, plan))
        return
    print_plan(plan, as_json)
    print_pool_waits(session, plan)


@click.command("auto")
@selection_argument
@now_option
@click.option("--dry-run", is_flag=True, help="Print what would run and why; run nothing.")
@workers_option
@executor_option
@json_option
@click.pass_obj
def auto_command(
    state: CliState, selection, now, dry_run: bool, workers: int, executor, as_json: bool
):
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
        executor=executor,
        order="oldest-first",
        retry_failed=False,
        max_failures=None,
        overdue=True,
    )
