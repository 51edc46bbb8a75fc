"""JSON log lines name the run (from its start to its end) and the unit attempt."""

from __future__ import annotations

import json
import logging

from partita.execution.log_context import JsonLogFormatter, RunLogContext
from partita.execution.unit_logs import UnitLogCapture


def _line(message: str) -> dict:
    record = logging.LogRecord("partita", logging.WARNING, __file__, 1, message, (), None)
    return json.loads(JsonLogFormatter().format(record))


def test_lines_name_the_run_and_the_unit_attempt() -> None:
    context = RunLogContext()
    assert _line("before")["run_id"] is None
    context.run_started("run-1", None)
    assert _line("planning")["run_id"] == "run-1"
    with UnitLogCapture("run-1", "orders", "2024-01-01") as capture:
        capture.attempt(2)
        inside = _line("retrying")
    assert (inside["asset"], inside["partition"], inside["attempt"]) == ("orders", "2024-01-01", 2)
    after = _line("between units")
    assert (after["run_id"], after["asset"]) == ("run-1", None)
    context.run_finished(None)
    assert _line("after")["run_id"] is None
    assert set(after) == {
        "time",
        "level",
        "logger",
        "message",
        "run_id",
        "asset",
        "partition",
        "attempt",
    }
