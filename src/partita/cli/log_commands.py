"""`partita logs`: what the units of a run logged and printed, per attempt."""

from __future__ import annotations

import click

from ..execution.unit_logs import KEEP_RUNS
from .context import CliState, json_option
from .output import print_json


@click.command("logs")
@click.argument("run_id")
@click.argument("asset", required=False)
@click.argument("partition", required=False)
@json_option
@click.pass_obj
def logs_command(
    state: CliState, run_id: str, asset: str | None, partition: str | None, as_json: bool
) -> None:
    """What the units of run RUN_ID logged (context.log, partita's warnings) and printed
    (stdout, stderr), per attempt; only ASSET's units, or only its PARTITION."""
    entries = state.session.unit_logs(run_id, asset, partition)
    if as_json:
        print_json({"run_id": run_id, "entries": entries})
        return
    if not entries:
        click.echo(
            f"run {run_id} has no unit logs{' for ' + asset if asset else ''}: its units "
            f"logged nothing, or the logs were pruned (the newest {KEEP_RUNS} runs keep theirs).",
            err=True,
        )
        return
    for entry in entries:
        where = entry["asset"] + (f" {entry['partition']}" if entry["partition"] else "")
        kind = entry["level"] or entry["stream"]
        click.echo(f"{entry['time'][:19]} {where} #{entry['attempt']} {kind}: {entry['message']}")
