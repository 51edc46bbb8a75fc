"""The `partita` command: global options, error handling in one place, the command list."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from .. import __version__
from ..errors import PartitaError
from .context import CliState


class PartitaGroup(click.Group):
    """Catches every `PartitaError` once: one paragraph on stderr, its exit code."""

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
@click.pass_context
def cli(ctx: click.Context, project_dir: Path | None, debug: bool) -> None:
    """partita: declare data assets, materialize the partitions that are missing or stale,
    and see what is fresh.

    Selections (for every command that takes assets): NAME, +NAME (with everything
    upstream), NAME+ (with everything downstream), +NAME+, group:NAME, tag:KEY=VALUE.
    Several selections are a union; none means every asset.
    """
    ctx.obj = CliState(project_dir=project_dir, debug=debug)


def _register() -> None:
    from . import freshness_commands, inspect_commands, report_commands, run_commands

    for module in (inspect_commands, run_commands, report_commands, freshness_commands):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="partita")
