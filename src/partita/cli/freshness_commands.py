"""Commands about how current the data is: `freshness` and `watermarks`."""

from __future__ import annotations

import sys

import click

from ..errors import EXIT_FAILED, EXIT_OK
from ..planning.freshness import Verdict
from .context import CliState, json_option, now_option, parse_now, selection_argument
from .output import print_json, print_table
from .partitions_commands import parse_where, where_option


@click.command("freshness")
@selection_argument
@now_option
@click.option("--all", "include_all", is_flag=True, help="Also list assets without a policy.")
@json_option
@where_option
@click.pass_obj
def freshness_command(
    state: CliState, selection, now, include_all: bool, as_json: bool, where: tuple[str, ...]
):
    """Check each asset's FreshnessPolicy at --now: fresh, pending (not due yet) or overdue.

    Exit code 1 when any asset is overdue, 0 otherwise, so cron or CI can gate on it.
    """
    moment = parse_now(now)
    results = state.session.freshness(
        selection, now=moment, include_all=include_all, where=parse_where(where)
    )
    if as_json:
        print_json({"now": moment.isoformat(), "assets": [r.to_json() for r in results]})
    elif not results:
        click.echo("No selected asset has a freshness policy (pass --all to list them).")
    else:
        print_table(
            f"freshness at {moment.isoformat()}",
            ["asset", "verdict", "expected", "latest", "deadline", "lag", "reason"],
            [
                (
                    r.asset,
                    r.verdict,
                    r.expected_partition or "-",
                    r.latest_partition or "-",
                    r.deadline.isoformat() if r.deadline else "-",
                    _duration(r.lag_s),
                    r.reason or "",
                )
                for r in results
            ],
        )
    overdue = any(r.verdict == Verdict.OVERDUE for r in results)
    sys.exit(EXIT_FAILED if overdue else EXIT_OK)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    hours, rest = divmod(int(seconds), 3600)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h {rest // 60}m" if days else f"{hours}h {rest // 60}m"


@click.command("watermarks")
@selection_argument
@now_option
@json_option
@click.pass_obj
def watermarks_command(state: CliState, selection, now, as_json: bool) -> None:
    """Per asset: the high-water mark of its watermark column, the latest materialized
    partition, and the partition through which it is complete with no gap since start."""
    reports = state.session.watermarks(selection, now=parse_now(now))
    if as_json:
        print_json({"assets": [r.to_json() for r in reports]})
        return
    print_table(
        None,
        ["asset", "high water", "latest partition", "complete through"],
        [
            (name, row.high_water or "-", row.latest_partition or "-", row.complete_through or "-")
            for r in reports
            for name, row in [(r.asset, r), *((f"  {c.group}", c) for c in r.combinations)]
        ],
    )
