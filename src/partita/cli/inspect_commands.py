"""Commands that describe the project without touching data: `list` and `lineage`."""

from __future__ import annotations

import click

from ..graph.lineage import LINEAGE_FORMATS
from .context import CliState, json_option, now_option, parse_now, selection_argument
from .output import print_json, print_table


@click.command("list")
@selection_argument
@now_option
@json_option
@click.pass_obj
def list_command(state: CliState, selection: tuple[str, ...], now: str | None, as_json: bool):
    """List assets: partitions (kind, count, first and last key), storage, deps and group.

    Counts of open-ended partitions are taken at --now.
    """
    summaries = state.session.assets(selection, now=parse_now(now))
    if as_json:
        print_json({"assets": summaries})
        return
    rows = [
        (
            s["name"],
            _partitions_text(s["partitions"]),
            s["storage"],
            ", ".join(s["deps"]) or "-",
            s["group"],
        )
        for s in summaries
    ]
    print_table(None, ["asset", "partitions", "storage", "deps", "group"], rows)


def _partitions_text(summary: dict | None) -> str:
    if summary is None:
        return "-"
    kind = summary["kind"]
    if "dimensions" in summary:  # multi-dimensional: (date: daily x region: static)
        kind += " (" + " x ".join(f"{d['name']}: {d['kind']}" for d in summary["dimensions"]) + ")"
    if not summary["count"]:
        return f"{kind} (none yet)"
    return f"{kind} x{summary['count']} {summary['first']} .. {summary['last']}"


@click.command("lineage")
@selection_argument
@click.option(
    "--format",
    "fmt",
    type=click.Choice(LINEAGE_FORMATS),
    default="text",
    show_default=True,
    help="text: an indented tree; mermaid and dot: paste into Mermaid or Graphviz; "
    'json: {"assets": [...], "edges": [[upstream, downstream], ...]}.',
)
@now_option
@click.pass_obj
def lineage_command(state: CliState, selection: tuple[str, ...], fmt: str, now: str | None):
    """Show how the selected assets depend on each other."""
    click.echo(state.session.lineage(selection, fmt=fmt, now=parse_now(now)))
