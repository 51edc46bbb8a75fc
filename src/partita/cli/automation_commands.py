"""Commands of automation: `daemon`, `ticks` and `observe`."""

from __future__ import annotations

import sys

import click

from ..app.requests import RunRequest
from ..definitions.policies import parse_duration
from ..errors import EXIT_FAILED, EXIT_OK, UsageError
from .context import CliState, json_option, now_option, parse_now, selection_argument
from .output import print_json, print_table
from .run_commands import configure_run_logging, workers_option
from .run_output import ReportPrinter


def _seconds(value: str) -> float:
    try:
        seconds = parse_duration(value).total_seconds()
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--tick'") from None
    if seconds <= 0:
        raise click.BadParameter("must be positive, e.g. 30s", param_hint="'--tick'")
    return seconds


@click.command("daemon")
@selection_argument
@click.option("--tick", "tick", default="30s", show_default=True, help="Time between ticks.")
@click.option("--once", is_flag=True, help="Run one tick, wait for its runs, and exit (cron).")
@now_option
@workers_option
@click.option(
    "--wait",
    is_flag=True,
    help="If another daemon runs for the warehouse, wait until it stops, then take over "
    "(default: exit with code 1).",
)
@click.pass_obj
def daemon_command(
    state: CliState, selection, tick: str, once: bool, now, workers: int, wait: bool
):
    """Run automation: each tick evaluates the automation conditions of the selected
    assets, observes the observable sources due and runs the sensors due, records what it
    requests, then launches the runs in their own processes. One daemon per warehouse
    (`--wait` waits for the running one to stop); SIGTERM or Ctrl-C finish the tick and
    stop cleanly.
    """
    from ..automation.daemon import Daemon, DaemonOptions

    configure_run_logging(state)
    options = DaemonOptions(
        selection=tuple(selection),
        tick=_seconds(tick),
        once=once,
        now=None if now is None else parse_now(now),
        workers=workers,
        wait=wait,
    )

    def say(message: str) -> None:
        click.echo(message)
        sys.stdout.flush()

    sys.exit(Daemon(state.session, options, say).run())


@click.command("ticks")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Show at most this many ticks, newest first.",
)
@json_option
@click.pass_obj
def ticks_command(state: CliState, limit: int, as_json: bool) -> None:
    """The daemon's latest ticks: what each evaluated, requested and why, its runs."""
    ticks = state.session.catalog.ticks(limit)
    if as_json:
        print_json({"ticks": [_tick_json(t) for t in ticks]})
        return
    rows = []
    for tick in ticks:
        requested = "; ".join(
            f"{u.asset}{'' if u.partition is None else ' ' + u.partition}: {u.why}"
            for u in tick.requested[:5]
        )
        if len(tick.requested) > 5:
            requested += f"; ... ({len(tick.requested)} units)"
        rows.append(
            (
                tick.tick_id,
                tick.at.isoformat(),
                tick.status,
                requested,
                ", ".join(tick.run_ids),
                tick.error,
            )
        )
    print_table(None, ("tick", "at", "status", "requested", "runs", "error"), rows)


def _tick_json(tick) -> dict:
    return {
        "tick_id": tick.tick_id,
        "at": tick.at.isoformat(),
        "status": str(tick.status),
        "evaluated": list(tick.evaluated),
        "requested": [
            {"asset": u.asset, "partition": u.partition, "why": u.why} for u in tick.requested
        ],
        "run_ids": list(tick.run_ids),
        "error": tick.error,
    }


@click.command("observe")
@selection_argument
@now_option
@json_option
@click.pass_obj
def observe_command(state: CliState, selection, now, as_json: bool) -> None:
    """Observe the selected observable sources now (every one with no selection): record
    each partition's data version; downstream partitions go stale where it changed."""
    session = state.session
    moment = parse_now(now)
    sources = [n for n in session.select(list(selection) or None) if session.graph[n].observable]
    if not sources:
        raise UsageError("the selection holds no observable source (@observable_source)")
    units = frozenset(
        (name, key) for name in sources for key in _keys(session.graph[name].partitions, moment)
    )
    request = RunRequest(
        selection=tuple(sources),
        now=moment,
        overdue={unit: "observed on demand" for unit in units},
        only=units,
        command=" ".join(["partita", *sys.argv[1:]])[:500],
    )
    configure_run_logging(state)
    printer = ReportPrinter(as_json, moment)
    report = session.run(request, [printer])
    sys.exit(EXIT_FAILED if report.failed else EXIT_OK)


def _keys(partitions, moment):
    if partitions is None:
        return [None]
    return partitions.keys(0, partitions.count(moment))
