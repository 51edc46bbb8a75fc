"""The daemon's overhead per tick, when everything is up to date (what an idle daemon pays
every `--tick`): an evaluation of the automation conditions plus the tick's record, against
planning the same assets (`materialize --plan`), measured in the same run."""

from __future__ import annotations

from datetime import UTC, datetime

from .common import median_time, partita_command, report, run_process, temporary_project

PIPELINE = """
import pandas as pd
from partita import DailyPartitions, asset, eager, on_cron

DAYS = DailyPartitions(start="2024-01-01", end="{end}")

{definitions}
"""
NOW = datetime(2025, 1, 2, 12, tzinfo=UTC)


def generated(count: int, end: str) -> str:
    """`count` daily assets: the first loads at 06:00 (cron), each next one follows the
    one before (eager)."""
    definitions = [
        '@asset(partitions=DAYS, automation=on_cron("0 6 * * *"))\n'
        'def asset_0(context) -> pd.DataFrame:\n    return pd.DataFrame({"x": [1]})\n'
    ]
    for index in range(1, count):
        definitions.append(
            f"@asset(partitions=DAYS, automation=eager())\n"
            f"def asset_{index}(asset_{index - 1}: pd.DataFrame) -> pd.DataFrame:\n"
            f"    return asset_{index - 1}\n"
        )
    return PIPELINE.format(end=end, definitions="\n\n".join(definitions))


def run(smoke: bool) -> None:
    from partita import PlanRequest, RunRequest, open_session
    from partita.automation.daemon import Daemon, DaemonOptions

    count, end, repeat = (3, "2024-02-01", 3) if smoke else (10, "2025-01-01", 10)
    with temporary_project({"pipeline.py": generated(count, end)}) as root:
        with open_session(root) as session:
            built = session.run(RunRequest(now=NOW))
            units = len(built.results)
            daemon = Daemon(session, DaemonOptions(now=NOW), say=lambda message: None)
            daemon._tick()  # the first evaluation sets the cursors
            plan = median_time(lambda: session.plan(PlanRequest(now=NOW)), repeat)
            tick = median_time(daemon._tick, repeat)
            ticks = session.catalog.ticks()
            assert not any(t.requested for t in ticks), "the measured ticks must be idle"
        now = ("--now", NOW.isoformat())
        planning = [run_process(partita_command("materialize", "--plan", *now), root)[0]]
        once = [run_process(partita_command("daemon", "--once", *now), root)[0]]
        for _ in range(repeat // 2):
            planning.append(run_process(partita_command("materialize", "--plan", *now), root)[0])
            once.append(run_process(partita_command("daemon", "--once", *now), root)[0])
    planning.sort()
    once.sort()
    process_plan, process_once = planning[len(planning) // 2], once[len(once) // 2]
    report(
        f"Daemon: an idle tick, {count} automated assets, {units} units up to date "
        f"({len(ticks)} ticks recorded)",
        [
            ("plan of the same assets (baseline)", f"{plan * 1000:.1f} ms"),
            ("one idle tick (evaluate + record)", f"{tick * 1000:.1f} ms ({tick / plan:.2f}x)"),
            ("partita materialize --plan (process)", f"{process_plan:.3f} s"),
            (
                "partita daemon --once (process)",
                f"{process_once:.3f} s ({process_once / process_plan:.2f}x)",
            ),
        ],
    )
