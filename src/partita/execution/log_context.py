"""Which unit attempt the current code works for, and partita's logs as JSON lines.

The unit log capture sets the current unit (run, asset, partition, attempt) while a unit
runs; `JsonLogFormatter` writes every log record as one JSON object carrying it, for
`--log-format json`. The choice is passed to worker processes through the environment
variable `PARTITA_LOG_FORMAT`, so their logs are JSON too.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .events import RunListener

LOG_FORMAT_VARIABLE = "PARTITA_LOG_FORMAT"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@dataclass(frozen=True)
class UnitContext:
    """The unit attempt being run."""

    run_id: str | None
    asset: str | None = None
    partition: str | None = None
    attempt: int | None = None


_current: ContextVar[UnitContext | None] = ContextVar("partita_unit", default=None)


def current_unit() -> UnitContext | None:
    """The unit attempt this thread runs, if any."""
    return _current.get()


def set_current_unit(context: UnitContext | None) -> object:
    """Make `context` current; returns a token for `reset_current_unit`."""
    return _current.set(context)


def reset_current_unit(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


class RunLogContext(RunListener):
    """Names the run in the coordinator's logs from its start to its end (listen last)."""

    def __init__(self) -> None:
        self._token: object | None = None

    def run_started(self, run_id: str, plan: Any) -> None:
        self._token = set_current_unit(UnitContext(run_id))

    def run_finished(self, report: Any) -> None:
        if self._token is not None:
            reset_current_unit(self._token)
            self._token = None


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and the unit's run id,
    asset, partition and attempt (null outside a unit)."""

    def format(self, record: logging.LogRecord) -> str:
        unit = current_unit() or UnitContext(None)
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "run_id": unit.run_id,
            "asset": unit.asset,
            "partition": unit.partition,
            "attempt": unit.attempt,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(log_format: LogFormat | str, level: int, asset_level: int) -> None:
    """Send partita's logs to stderr as text or JSON lines (and tell worker processes)."""
    log_format = LogFormat(log_format)
    os.environ[LOG_FORMAT_VARIABLE] = log_format
    logger = logging.getLogger("partita")
    if not logger.handlers:
        logger.addHandler(logging.StreamHandler(sys.stderr))
    for handler in logger.handlers:
        if log_format == LogFormat.JSON:
            handler.setFormatter(JsonLogFormatter())
        else:
            handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.setLevel(level)
    # What asset functions log through context.log is for the user: show it.
    logging.getLogger("partita.assets").setLevel(asset_level)


def configure_worker_logging() -> None:
    """In a worker process: JSON lines on stderr when the coordinator logs JSON."""
    if os.environ.get(LOG_FORMAT_VARIABLE) == LogFormat.JSON:
        configure_logging(LogFormat.JSON, logging.WARNING, logging.INFO)
