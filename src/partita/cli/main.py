"""The `partita` command: global options, error handling in one place, the command list."""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path

import click

from .. import __version__
from ..errors import PartitaError
from ..execution.interrupts import sigterm_as_interrupt
from .context import CliState

# Commands are imported when used, so `partita --version` loads almost nothing.
COMMANDS = {
    "list": "inspect_commands:list_command",
    "lineage": "inspect_commands:lineage_command",
    "materialize": "run_commands:materialize_command",
    "backfill": "run_commands:backfill_command",
    "auto": "run_commands:auto_command",
    "status": "report_commands:status_command",
    "runs": "report_commands:runs_command",
    "show": "report_commands:show_command",
    "freshness": "freshness_commands:freshness_command",
    "watermarks": "freshness_commands:watermarks_command",
    "partitions": "partitions_commands:partitions_group",
    "history": "undo_commands:history_command",
    "rollback": "undo_commands:rollback_command",
    "restore": "undo_commands:restore_command",
    "prune": "undo_commands:prune_command",
    "ui": "ui_command:ui_command",
    "daemon": "automation_commands:daemon_command",
    "ticks": "automation_commands:ticks_command",
    "observe": "automation_commands:observe_command",
    "alerts": "alert_commands:alerts_command",
    "stats": "stats_commands:stats_command",
    "logs": "log_commands:logs_command",
    "catalog": "catalog_commands:catalog_group",
}


class PartitaGroup(click.Group):
    """Loads commands lazily and catches every `PartitaError` once: one paragraph on
    stderr, its exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name].split(":")
        return getattr(importlib.import_module(f"partita.cli.{module}"), attribute)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PartitaError as error:
            state = ctx.obj if isinstance(ctx.obj, CliState) else None
            if state is not None and state.debug:
                traceback.print_exception(error)
                for inner in getattr(error, "errors", ()):  # e.g. where an asset module failed
                    if inner.__cause__ is not None:
                        traceback.print_exception(inner.__cause__)
            click.echo(f"error: {error.format()}", err=True)
            ctx.exit(error.exit_code)


@click.group(cls=PartitaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="partita", message="%(prog)s %(version)s")
@click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The project folder (holding pyproject.toml). Default: found from the current "
    "folder upward.",
)
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.option(
    "--env",
    metavar="NAME",
    help="Apply [tool.partita.env.NAME] over [tool.partita]. Default: $PARTITA_ENV.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="partita's own logs on stderr: text, or one JSON object per line (with run id, "
    "asset, partition and attempt).",
)
@click.pass_context
def cli(
    ctx: click.Context, project_dir: Path | None, debug: bool, env: str | None, log_format: str
) -> None:
    """partita: declare data assets, materialize the partitions that are missing or stale,
    and see what is fresh.

    Selections (for every command that takes assets): NAME, +NAME (with everything
    upstream), NAME+ (with everything downstream), +NAME+, group:NAME, tag:KEY=VALUE.
    Several selections are a union; none means every asset.
    """
    ctx.obj = CliState(project_dir=project_dir, debug=debug, env=env, log_format=log_format)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    # SIGTERM stops a run as Ctrl-C does (recorded interrupted, leases released), exit 143.
    with sigterm_as_interrupt():
        cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="partita")
