"""Records and times shared by the catalog contract tests."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from partita.catalog import MaterializationRecord

T0 = datetime(2013, 1, 1, tzinfo=UTC)
T0_TEXT = T0.isoformat(timespec="microseconds")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def attempt(
    asset: str = "flights",
    partition: str | None = "2013-01-01",
    status: str = "materialized",
    minute: int = 0,
    run_id: str = "run-1",
    **fields: object,
) -> MaterializationRecord:
    """An attempt finished 30 s after `minute`; a success has data version `dv-<minute>`."""
    defaults: dict[str, object] = {"attempts": 1}
    if status == "materialized":
        defaults.update(rows=10, bytes=100, data_version=f"dv-{minute}", code_version="v1")
    else:
        defaults.update(error="boom")
    defaults.update(fields)
    return MaterializationRecord(
        asset=asset,
        partition=partition,
        run_id=run_id,
        status=status,
        started=at(minute),
        finished=at(minute) + timedelta(seconds=30),
        **defaults,  # type: ignore[arg-type]
    )


def dead_pid() -> int:
    """The pid of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
