"""Commands that read the catalog and the data: `status`, `runs` and `show`."""

from __future__ import annotations

import sys

import click

from ..execution.report import UnitStatus
from .context import CliState, json_option, now_option, parse_now, selection_argument
from .output import print_json, print_table
from .partitions_commands import parse_where, where_option

# At most this many partitions that need work per asset in `status --json`.
STATUS_JSON_PARTITIONS = 1000

# The unit statuses `partita runs` shows a column for (locked only shows in the JSON).
_RUN_COLUMNS = (
    UnitStatus.MATERIALIZED,
    UnitStatus.UP_TO_DATE,
    UnitStatus.FAILED,
    UnitStatus.SKIPPED,
)


@click.command("status")
@selection_argument
@now_option
@json_option
@click.option(
    "--history", "history", is_flag=True, help="Show the kept versions and their bytes instead."
)
@where_option
@click.pass_obj
def status_command(
    state: CliState, selection, now, as_json: bool, history: bool, where: tuple[str, ...]
) -> None:
    """Per asset, how many partitions are fresh, stale, missing or failed at --now."""
    if history:
        from .undo_commands import print_history_usage

        print_history_usage(state, selection, as_json)
        return
    from ..planning.status import STATES, PartitionHealth  # loads numpy: only for status

    # The table shows the first partition that needs work; the JSON a bounded list of
    # them (its counts and ranges cover every partition).
    limit = STATUS_JSON_PARTITIONS if as_json else 1
    statuses = state.session.status(
        selection, now=parse_now(now), needs_work_limit=limit, where=parse_where(where)
    )
    quarantined = _quarantined(state.session.quarantines(selection))
    if as_json:
        print_json(
            {
                "assets": [
                    {**s.to_json(), "quarantined": quarantined.get(s.asset, _NO_QUARANTINE)}
                    for s in statuses
                ]
            }
        )
        return
    rows = []
    for status in statuses:
        example = next((p for p in status.partitions if p.state != PartitionHealth.FRESH), None)
        check = status.failed_checks[0] if status.failed_checks else None
        rows.append(
            (
                status.asset,
                *(status.count(health) for health in STATES),
                f"{example.partition or '-'}: {example.reason}" if example else "",
                f"{len(status.failed_checks)} ({check[1].severity}: {check[1].name}"
                f" {check[0] or ''}: {check[1].message})"
                if check
                else "",
            )
        )
    columns = ["asset", *STATES, "first not fresh", "failed checks"]
    if quarantined:  # a column only for projects that quarantine rows
        columns.append("quarantined rows")
        rows = [(*row, quarantined.get(row[0], _NO_QUARANTINE)["rows"]) for row in rows]
    print_table(None, columns, rows)


_NO_QUARANTINE = {"rows": 0, "partitions": 0}


def _quarantined(records) -> dict[str, dict[str, int]]:
    """Per asset: rows its units' latest attempts set aside, and in how many partitions."""
    totals: dict[str, dict[str, int]] = {}
    for record in records:
        total = totals.setdefault(record.asset, {"rows": 0, "partitions": 0})
        total["rows"] += record.rows
        total["partitions"] += record.rows > 0
    return totals


@click.command("runs")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many runs to show, newest first.",
)
@json_option
@click.pass_obj
def runs_command(state: CliState, limit: int, as_json: bool) -> None:
    """The run history: command, status, duration and units per status."""
    runs = state.session.runs(limit)
    payload = [
        {
            "run_id": run.run_id,
            "command": run.command,
            "started": run.started.isoformat(),
            "finished": run.finished.isoformat() if run.finished else None,
            "duration_s": (run.finished - run.started).total_seconds() if run.finished else None,
            "status": run.status,
            "counts": run.counts,
        }
        for run in runs
    ]
    if as_json:
        print_json({"runs": payload})
        return
    if not runs:
        click.echo("No runs yet: run 'partita materialize'.")
        return
    print_table(
        None,
        [
            "run",
            "status",
            "started",
            "duration",
            *(status.replace("_", " ") for status in _RUN_COLUMNS),
            "command",
        ],
        [
            (
                r["run_id"],
                r["status"],
                r["started"][:19],
                "" if r["duration_s"] is None else f"{r['duration_s']:.1f}s",
                *(r["counts"].get(status, 0) for status in _RUN_COLUMNS),
                r["command"],
            )
            for r in payload
        ],
    )


@click.command("show")
@click.argument("asset")
@click.option("--partition", metavar="KEY", help="Only this partition.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="How many rows to print.",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="RUN_ID|ISO",
    help="The data as it was just after this run, or at this time (naive means UTC).",
)
@click.option(
    "--quarantine",
    is_flag=True,
    help="Print the rows its quarantine checks set aside instead, with check and reason.",
)
@json_option
@click.pass_obj
def show_command(
    state: CliState,
    asset: str,
    partition: str | None,
    limit: int,
    as_of,
    quarantine: bool,
    as_json: bool,
):
    """Print rows of an asset's materialized data (as of a run or time, or its
    quarantined rows)."""
    session = state.session
    name = session.select(asset)[0]
    if quarantine:
        frame = session.read_quarantine(name, partition).to_pandas()
    else:
        frame = session.read(name, partition, as_of).to_pandas()
    head = frame.head(limit)
    if as_json:
        click.echo(head.to_json(orient="records", date_format="iso"))
        return
    # The title goes on its own line: rich wraps a table's title to the table's width,
    # which breaks it into pieces above a narrow table.
    click.echo(
        f"{name}{' ' + partition if partition else ''}"
        f"{' quarantined' if quarantine else ''}: {len(frame)} rows"
        f"{f', first {len(head)}' if len(head) < len(frame) else ''}"
    )
    print_table(
        None,
        [str(c) for c in head.columns],
        head.astype(object).where(head.notna(), None).values.tolist(),
    )
    sys.stdout.flush()
