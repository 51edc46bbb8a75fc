"""Printing: rich tables for people, JSON for programs. rich is imported only when used."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click


def print_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, default=str))


def print_table(
    title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, err: bool = False
) -> None:
    """A table on stdout (or stderr), sized to the terminal; plain text when piped."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_edge=False, header_style="bold", title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console(stderr=err, width=None if _is_terminal(err) else 200).print(table)


def _is_terminal(err: bool) -> bool:
    stream = sys.stderr if err else sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())
