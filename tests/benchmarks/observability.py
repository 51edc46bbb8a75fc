"""Observability overhead per unit: `Workspace.execute` (which captures the unit's logs and
output and saves them in the warehouse) against the same unit run without the capture, in
the same process, interleaved; the asset logs one line and prints one."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from partita.app.session import open_session
from partita.execution.unit import UnitJob, Workspace

from .common import report, temporary_project

ASSET = """
import pandas as pd
from partita import DailyPartitions, asset


@asset(partitions=DailyPartitions(start="2020-01-01"))
def events(context):
    context.log.info("building %s", context.partition_key)
    print("rows: 15")
    return pd.DataFrame({"id": range(15), "value": [1.5] * 15})
"""


def _jobs(session, count: int, run_id: str) -> list[UnitJob]:
    partitions = session.graph["events"].partitions
    return [
        UnitJob("events", partitions.key(index), index, (), run_id, None) for index in range(count)
    ]


def _per_unit(workspace: Workspace, jobs: list[UnitJob], captured: bool) -> float:
    started = time.perf_counter()
    for job in jobs:
        if captured:
            outcome = workspace.execute(job)
        else:
            outcome = workspace._execute(job, lambda attempt: None)
        assert outcome.succeeded, outcome.error
    return (time.perf_counter() - started) / len(jobs)


def run(smoke: bool) -> None:
    count, repeat = (10, 1) if smoke else (200, 5)
    with temporary_project({"events.py": ASSET}) as root, open_session(root) as session:
        workspace = Workspace(session.graph, Path(session.warehouse))
        _per_unit(workspace, _jobs(session, count, "warm-up"), True)
        bare, captured = [], []
        for round_number in range(repeat):  # interleaved: both see the same machine load
            bare.append(_per_unit(workspace, _jobs(session, count, f"bare-{round_number}"), False))
            captured.append(
                _per_unit(workspace, _jobs(session, count, f"logs-{round_number}"), True)
            )
        workspace.close()
    bare_ms = statistics.median(bare) * 1000
    captured_ms = statistics.median(captured) * 1000
    report(
        f"Unit log capture: {count} small partitions, one log line and one print each",
        [
            ("unit without capture", f"{bare_ms:.2f} ms / unit"),
            ("unit with logs captured and saved", f"{captured_ms:.2f} ms / unit"),
            ("overhead", f"{captured_ms - bare_ms:+.2f} ms / unit ({captured_ms / bare_ms:.2f}x)"),
        ],
    )
