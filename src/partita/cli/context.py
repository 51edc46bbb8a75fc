"""State shared by every command: the global options and the lazily loaded project."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..project import Project


@dataclass
class CliState:
    """Global options, and the project once a command asks for it."""

    project_dir: Path | None
    debug: bool
    _project: Project | None = field(default=None, repr=False)

    @property
    def project(self) -> Project:
        if self._project is None:
            from ..project import load_project  # not needed by --help and --version

            self._project = load_project(self.project_dir)
        return self._project


def parse_now(value: str | None) -> datetime:
    """`--now` as an aware datetime (naive values are UTC); the wall clock when absent."""
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date or time; write e.g. 2013-06-01 or "
            "2013-06-01T06:00:00+00:00",
            param_hint="'--now'",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def now_option(function):
    """The `--now ISO` option shared by commands that depend on the time."""
    return click.option(
        "--now",
        "now",
        metavar="ISO",
        help="Evaluate as if it were this time (ISO 8601; naive means UTC). Default: now.",
    )(function)


def selection_argument(function):
    """The `[SELECTION]...` argument shared by commands that take assets."""
    return click.argument("selection", nargs=-1, metavar="[SELECTION]...")(function)


def json_option(function):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        function
    )
