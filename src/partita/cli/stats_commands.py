"""`partita stats`: per asset, units run, success rate, retries, duration and rows
percentiles with their trend; per run, duration and units. Table, JSON or Prometheus."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from .context import CliState, json_option, selection_argument
from .output import print_json, print_table


@click.command("stats")
@selection_argument
@click.option("--since", metavar="ISO", help="Only attempts and runs started at or after this.")
@click.option(
    "--runs",
    "run_limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many of the latest runs to list.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "prometheus"]),
    default="table",
    show_default=True,
    help="prometheus: the text exposition format, for a node exporter's textfile collector.",
)
@json_option
@click.pass_obj
def stats_command(
    state: CliState, selection, since: str | None, run_limit: int, output_format: str, as_json: bool
) -> None:
    """Run statistics of the selected assets (all by default) from the catalog's history."""
    from ..observability.stats import to_prometheus

    statistics = state.session.stats(selection, since=_parse_since(since), runs=run_limit)
    if as_json or output_format == "json":
        print_json(statistics.to_json())
    elif output_format == "prometheus":
        click.echo(to_prometheus(statistics), nl=False)
    else:
        _print_tables(statistics)


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date or time; write e.g. 2024-01-01", param_hint="'--since'"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _print_tables(statistics) -> None:
    rows = []
    for asset in statistics.assets:
        trend = " ".join(_short(p.duration_s_p50) for p in asset.trend[-5:])
        rate = asset.success_rate
        rows.append(
            (
                asset.asset,
                asset.units,
                "" if rate is None else f"{rate:.0%}",
                asset.retries,
                *(_short(asset.duration_s[key]) for key in ("p50", "p95", "p99")),
                _short(asset.rows_p50),
                trend,
            )
        )
    print_table(
        "assets",
        ["asset", "units", "success", "retries", "p50 s", "p95 s", "p99 s", "rows p50", "trend"],
        rows,
    )
    print_table(
        "runs",
        ["run", "status", "started", "duration s", "units", "failed"],
        [
            (
                r.run.run_id,
                r.run.status,
                r.run.started.strftime("%Y-%m-%d %H:%M:%S"),
                _short(r.duration_s),
                r.units,
                r.failed,
            )
            for r in statistics.runs
        ],
    )


def _short(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"
