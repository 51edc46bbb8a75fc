"""State shared by every command: the global options and the lazily loaded project."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..app.session import Session


@dataclass
class CliState:
    """Global options, and the session once a command asks for it (closed with the
    command's context)."""

    project_dir: Path | None
    debug: bool
    env: str | None = None  # --env NAME
    log_format: str = "text"  # partita's own logs: text, or JSON lines (--log-format)
    _session: Session | None = field(default=None, repr=False)

    @property
    def session(self) -> Session:
        if self._session is None:
            from ..app.session import open_session  # not needed by --help and --version

            self._session = open_session(self.project_dir, self.env)
            click.get_current_context().call_on_close(self._session.close)
        return self._session


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
