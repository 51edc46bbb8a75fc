"""The cost of keeping history: a backfill that replaces every partition, with the
default retention (the last 3 versions for 7 days) against retention off
(`retain_versions = 0`), measured in the same process; and the disk the history uses.

Three daily-partitioned assets in a chain (raw -> cleaned -> summary), once in Parquet
and once with the middle asset in DuckDB. The timed backfill is forced with new data, so
every partition's previous version is kept (or not).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil

from .common import REPO, report, temporary_project, timed

START = dt.date(2024, 1, 1)

ASSETS = """
import os

from partita import DailyPartitions, {storage_import}asset
from tests.benchmarks.workload import clean, generate, summarize

ROWS = int(os.environ["PARTITA_BENCH_ROWS"])
DAYS = DailyPartitions(start="{start}", end="{end}")


@asset(partitions=DAYS)
def raw_events(context):
    generation = int(os.environ["PARTITA_BENCH_GENERATION"])
    return generate(context.partition_key, ROWS).assign(generation=generation)


@asset(partitions=DAYS{cleaned_storage})
def cleaned(raw_events):
    return clean(raw_events)


@asset(partitions=DAYS)
def summary(cleaned):
    return summarize(cleaned)
"""

RETENTION_OFF = "[tool.partita]\nretain_versions = 0\n"


def measure(count: int, rows: int, repeat: int, duckdb: bool, retention_off: bool):
    """Median time of the replacing backfill, and the bytes of history it left."""
    from partita import load_project
    from partita.app.undo import history_usage

    os.environ["PARTITA_BENCH_ROWS"] = str(rows)
    end = (START + dt.timedelta(days=count)).isoformat()
    source = ASSETS.format(
        start=START.isoformat(),
        end=end,
        storage_import="DuckDB, " if duckdb else "",
        cleaned_storage=", storage=DuckDB()" if duckdb else "",
    )
    now = dt.datetime.fromisoformat(end + "T00:00:00+00:00") + dt.timedelta(days=1)
    times, kept = [], 0
    with temporary_project({"chain.py": source}) as root:
        if retention_off:
            pyproject = root / "pyproject.toml"
            pyproject.write_text(pyproject.read_text() + RETENTION_OFF)
        for _ in range(repeat):
            shutil.rmtree(root / "warehouse", ignore_errors=True)
            project = load_project(root)
            os.environ["PARTITA_BENCH_GENERATION"] = "1"
            project.materialize(now=now)
            os.environ["PARTITA_BENCH_GENERATION"] = "2"
            times.append(timed(lambda p=project: p.materialize(now=now, force=True)))
            with project.session() as session:
                kept = sum(usage.bytes for usage in history_usage(session))
    return sorted(times)[len(times) // 2], kept


def run(smoke: bool) -> None:
    import sys

    sys.path.insert(0, str(REPO))
    count = 5 if smoke else 180
    repeat = 1 if smoke else 3
    rows = 100 if smoke else 10_000
    for duckdb in (False, True):
        off, off_bytes = measure(count, rows, repeat, duckdb, retention_off=True)
        kept, kept_bytes = measure(count, rows, repeat, duckdb, retention_off=False)
        storage = "Parquet, cleaned in DuckDB" if duckdb else "Parquet"
        report(
            f"Replacing backfill with history: {count} days x {rows:,} rows, 3 assets ({storage})",
            [
                ("retention off (retain_versions = 0)", f"{off:.2f} s, history {off_bytes:,} B"),
                ("default retention (3 versions, 7d)", f"{kept:.2f} s, history {kept_bytes:,} B"),
                ("default / off", f"{kept / off:.2f}x"),
            ],
        )
