"""Backfill benchmarks: partita against the same work hand-written, in the same process.

Three daily-partitioned Parquet assets in a chain (raw -> cleaned -> summary). The
baseline generates, writes with `to_parquet`, reads back, transforms and writes, with no
framework. partita's figure includes planning, the catalog commits and the fsyncs.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from .common import REPO, median_time, report, temporary_project, timed
from .workload import clean, generate, summarize

START = dt.date(2024, 1, 1)

ASSETS = """
import os

from partita import DailyPartitions, asset
from tests.benchmarks.workload import clean, generate, summarize

ROWS = int(os.environ["PARTITA_BENCH_ROWS"])
DAYS = DailyPartitions(start="{start}", end="{end}")


@asset(partitions=DAYS)
def raw_events(context):
    return generate(context.partition_key, ROWS)


@asset(partitions=DAYS)
def cleaned(raw_events):
    return clean(raw_events)


@asset(partitions=DAYS)
def summary(cleaned):
    return summarize(cleaned)
"""


def days(count: int) -> list[str]:
    return [(START + dt.timedelta(days=i)).isoformat() for i in range(count)]


def raw_loop(folder: Path, day_keys: list[str], rows: int) -> None:
    """The hand-written floor: the same three steps, each written and read back."""
    for day in day_keys:
        raw_path = folder / "raw" / f"date={day}"
        clean_path = folder / "cleaned" / f"date={day}"
        summary_path = folder / "summary" / f"date={day}"
        for path in (raw_path, clean_path, summary_path):
            path.mkdir(parents=True, exist_ok=True)
        generate(day, rows).to_parquet(raw_path / "part-0.parquet", index=False)
        cleaned = clean(pd.read_parquet(raw_path / "part-0.parquet"))
        cleaned.to_parquet(clean_path / "part-0.parquet", index=False)
        summary = summarize(pd.read_parquet(clean_path / "part-0.parquet"))
        summary.to_parquet(summary_path / "part-0.parquet", index=False)


def measure_raw(day_keys: list[str], rows: int, repeat: int) -> float:
    def once() -> None:
        folder = Path(tempfile.mkdtemp(prefix="partita-raw-"))
        try:
            raw_loop(folder, day_keys, rows)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return median_time(once, repeat)


def measure_partita(day_keys: list[str], rows: int, workers: int, repeat: int):
    """Median wall time of a backfill from an empty warehouse, and of the no-op re-run."""
    import os

    from partita import load_project

    os.environ["PARTITA_BENCH_ROWS"] = str(rows)
    end = (dt.date.fromisoformat(day_keys[-1]) + dt.timedelta(days=1)).isoformat()
    source = ASSETS.format(start=day_keys[0], end=end)
    now = dt.datetime.fromisoformat(end + "T00:00:00+00:00") + dt.timedelta(days=1)
    backfills, noops, units = [], [], 0
    with temporary_project({"chain.py": source}) as root:
        for _ in range(repeat):
            shutil.rmtree(root / "warehouse", ignore_errors=True)
            project = load_project(root)
            backfills.append(timed(lambda p=project: p.materialize(now=now, workers=workers)))
            report_ = project.materialize(now=now)
            units = len(report_.results)
            assert all(r.status == "up_to_date" for r in report_.results)
            noops.append(timed(lambda p=project: p.materialize(now=now)))
    return sorted(backfills)[len(backfills) // 2], sorted(noops)[len(noops) // 2], units


def run(smoke: bool) -> None:
    import sys

    sys.path.insert(0, str(REPO))
    count = 5 if smoke else 366
    repeat = 1 if smoke else 3
    for rows in [100] if smoke else [10_000, 100]:
        day_keys = days(count)
        raw = measure_raw(day_keys, rows, repeat)
        partita, noop, units = measure_partita(day_keys, rows, 1, repeat)
        overhead_ms = (partita - raw) / units * 1000
        report(
            f"Backfill vs the physical floor: {count} days x {rows:,} rows, 3 assets",
            [
                ("hand-written loop", f"{raw:.2f} s"),
                ("partita, 1 worker", f"{partita:.2f} s"),
                ("partita / raw", f"{partita / raw:.2f}x"),
                ("overhead per asset partition", f"{overhead_ms:.2f} ms"),
                (f"no-op re-run of {units} units", f"{noop:.3f} s"),
            ],
        )
        if rows == (100 if smoke else 10_000):
            parallel, _, _ = measure_partita(day_keys, rows, 2, repeat)
            report(
                f"Parallel backfill: {count} days x {rows:,} rows, --workers 2",
                [
                    ("hand-written loop (sequential)", f"{raw:.2f} s"),
                    ("partita, 2 workers", f"{parallel:.2f} s"),
                    ("partita 2 workers / raw", f"{parallel / raw:.2f}x"),
                ],
            )
