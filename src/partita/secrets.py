"""Secrets: values read from the environment through `${VAR}` in the configuration.

They are registered here when a configuration value is interpolated, and `mask` replaces
each with `***` in any text partita shows, logs or records (errors of units, the catalog,
the run report). Environment variables belong to the process, so the registry does too:
one set per process, filled only by `interpolate`, never emptied while values may show up.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import traceback
from collections.abc import Mapping
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values ("1", "on") would mask ordinary text
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

_secrets: set[str] = set()
_lock = threading.Lock()
_factory_installed = False


class MissingVariableError(KeyError):
    """A `${VAR}` names an environment variable that is not set."""

    def __init__(self, variable: str) -> None:
        super().__init__(variable)
        self.variable = variable


def register(value: str) -> None:
    """Treat `value` as a secret from now on (in this process)."""
    if len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)
        _install_log_masking()


def mask(text: str) -> str:
    """`text` with every registered secret replaced by `***` (longest first)."""
    if not _secrets or not text:
        return text
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def interpolate(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """`value` with each `${VAR}` in its strings (recursively through lists and tables)
    replaced by the environment variable, registered as a secret. `$${` writes a literal
    `${`. Raises `MissingVariableError` for a variable that is not set."""
    environ = os.environ if environ is None else environ
    if isinstance(value, str):
        return _interpolate_text(value, environ)
    if isinstance(value, list):
        return [interpolate(item, environ) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, environ) for key, item in value.items()}
    return value


def _interpolate_text(text: str, environ: Mapping[str, str]) -> str:
    pieces = text.split("$${")
    resolved = []
    for piece in pieces:

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                raise MissingVariableError(name)
            register(environ[name])
            return environ[name]

        resolved.append(_REFERENCE.sub(substitute, piece))
    return "${".join(resolved)


def _install_log_masking() -> None:
    """Make every log record's message masked, whatever handler formats it."""
    global _factory_installed
    with _lock:
        if _factory_installed:
            return
        _factory_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _secrets:
            record.msg = mask(record.getMessage())
            record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                # Formatters use exc_text when set: the traceback is masked too.
                record.exc_text = mask("".join(traceback.format_exception(*record.exc_info)))
                record.exc_text = record.exc_text.rstrip("\n")
        return record

    logging.setLogRecordFactory(factory)
