"""The cost of keeping history: backfills with the default retention (the last 3 versions
for 7 days) against retention off (`retain_versions = 0`), measured in the same process;
and the disk the history uses. Target (issue 16, point 6): default / off within 1.10x.

Three daily-partitioned assets in a chain (raw -> cleaned -> summary):
- The benchmark backfill (`backfill.py`: 366 days, 10,000 and 100 rows, Parquet, from an
  empty warehouse, 1 worker): what retention costs a run that replaces nothing (pruning
  after the run included).
- A backfill that replaces every partition (forced, with new data), once all in Parquet
  (same target) and once all in DuckDB (reported: it copies the rows it keeps inside the
  write's transaction, so it writes them twice): what keeping each replaced version costs.

The two settings alternate (off, on, on, off, ...) so a machine whose load drifts weighs on
both alike, and the page cache is written out (`os.sync`) before each timed backfill, so
one run's writeback never lands in the next one's time; the medians of wall and CPU time
are compared.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import time

from .common import REPO, report, temporary_project

START = dt.date(2024, 1, 1)

ASSETS = """
import os

from partita import DailyPartitions, {storage_import}asset
from tests.benchmarks.workload import clean, generate, summarize

ROWS = int(os.environ["PARTITA_BENCH_ROWS"])
DAYS = DailyPartitions(start="{start}", end="{end}")


@asset(partitions=DAYS{storage})
def raw_events(context):
    generation = int(os.environ["PARTITA_BENCH_GENERATION"])
    return generate(context.partition_key, ROWS).assign(generation=generation)


@asset(partitions=DAYS{storage})
def cleaned(raw_events):
    return clean(raw_events)


@asset(partitions=DAYS{storage})
def summary(cleaned):
    return summarize(cleaned)
"""

RETENTION_OFF = "[tool.partita]\nretain_versions = 0\n"


def measure(
    count: int, rows: int, duckdb: bool, retention_off: bool, replacing: bool
) -> tuple[float, float, int]:
    """The wall and CPU time of one backfill (from an empty warehouse, or `replacing` every
    partition of a first one), and the bytes of history it left."""
    from partita import load_project
    from partita.app.undo import history_usage

    os.environ["PARTITA_BENCH_ROWS"] = str(rows)
    end = (START + dt.timedelta(days=count)).isoformat()
    source = ASSETS.format(
        start=START.isoformat(),
        end=end,
        storage_import="DuckDB, " if duckdb else "",
        storage=", storage=DuckDB()" if duckdb else "",
    )
    now = dt.datetime.fromisoformat(end + "T00:00:00+00:00") + dt.timedelta(days=1)
    with temporary_project({"chain.py": source}) as root:
        if retention_off:
            pyproject = root / "pyproject.toml"
            pyproject.write_text(pyproject.read_text() + RETENTION_OFF)
        shutil.rmtree(root / "warehouse", ignore_errors=True)
        project = load_project(root)
        os.environ["PARTITA_BENCH_GENERATION"] = "1"
        if replacing:
            project.materialize(now=now)
            os.environ["PARTITA_BENCH_GENERATION"] = "2"
        os.sync()
        wall, cpu = time.perf_counter(), time.process_time()
        project.materialize(now=now, force=replacing)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        with project.session() as session:
            kept = sum(usage.bytes for usage in history_usage(session))
    return wall, cpu, kept


def compare(title: str, repeat: int, target: bool = True, **case) -> None:
    """Time both settings alternately and report the ratio of the medians (against the
    1.10x target, or for information when `target` is False)."""
    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    kept_bytes: dict[bool, int] = {}
    for turn in range(repeat):
        for off in (True, False) if turn % 2 == 0 else (False, True):
            wall, cpu, kept_bytes[off] = measure(retention_off=off, **case)
            times[off].append((wall, cpu))
    wall = {o: statistics.median(w for w, _ in times[o]) for o in times}
    cpu = {o: statistics.median(c for _, c in times[o]) for o in times}
    ratio = wall[False] / wall[True]
    report(
        title,
        [
            ("retention off (retain_versions = 0)", f"{wall[True]:.2f} s (CPU {cpu[True]:.2f} s)"),
            (
                "default retention (3 versions, 7d)",
                f"{wall[False]:.2f} s (CPU {cpu[False]:.2f} s), history {kept_bytes[False]:,} B",
            ),
            (
                "default / off" + (" (target: within 1.10x)" if target else ""),
                f"{ratio:.2f}x (CPU {cpu[False] / cpu[True]:.2f}x)"
                + (f": {'met' if ratio <= 1.10 else 'NOT met'}" if target else ""),
            ),
        ],
    )


def run(smoke: bool) -> None:
    import sys

    sys.path.insert(0, str(REPO))
    repeat = 1 if smoke else 3
    days = 5 if smoke else 366
    for rows in [100] if smoke else [10_000, 100]:
        compare(
            f"The benchmark backfill with history: {days} days x {rows:,} rows, 3 assets"
            " (Parquet, from an empty warehouse)",
            repeat,
            count=days,
            rows=rows,
            duckdb=False,
            replacing=False,
        )
    days, rows = (5, 100) if smoke else (180, 10_000)
    for duckdb in (False, True):
        compare(
            f"A backfill replacing every partition: {days} days x {rows:,} rows, 3 assets"
            f" ({'DuckDB' if duckdb else 'Parquet'})",
            repeat,
            count=days,
            rows=rows,
            duckdb=duckdb,
            replacing=True,
            target=not duckdb,  # DuckDB copies the rows it keeps: see the README's "Cost"
        )
