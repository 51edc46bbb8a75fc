"""Cluster benchmarks: Dask against local processes, PostgreSQL against SQLite.

- Scheduling overhead per unit: a no-op asset, `--executor dask` vs `--executor process`
  (both with 2 workers, each run a fresh `partita` process): the whole run, and per unit
  with the start-up taken out (the time of a 4-unit run subtracted).
- The backfill of three daily assets with `--executor dask --workers 2` against the
  sequential hand-written loop (target: 0.7x or less at 366 days x 10,000 rows), with
  `--executor process --workers 2` on the same backfill as a reference.
- Catalog operations per second for lease + record of one unit, on a real PostgreSQL server
  (started here, on 127.0.0.1) and on SQLite.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

from .backfill import ASSETS, days, measure_raw
from .common import REPO, partita_command, report, run_process, temporary_project, timed

NOOP = """
import pyarrow as pa
from partita import DailyPartitions, asset


@asset(partitions=DailyPartitions(start="2024-01-01", end="{end}"))
def noop(context):
    return pa.table({{"x": [1]}})
"""


FEW = 4  # units of the run whose time is the executor's start-up


def _end(day_keys: list[str]) -> str:
    return (dt.date.fromisoformat(day_keys[-1]) + dt.timedelta(days=1)).isoformat()


def _cli_backfill(root: Path, end: str, executor: str) -> float:
    shutil.rmtree(root / "warehouse", ignore_errors=True)
    now = f"{end}T00:00:00+00:00"
    command = partita_command("materialize", "--now", now, "--workers", "2", "--executor", executor)
    elapsed, _ = run_process(command, cwd=root)
    return elapsed


def scheduling_overhead(count: int) -> None:
    """Each executor runs `FEW` then `count` no-op units: the difference, divided by the
    extra units, is the cost of one unit without the cluster's start-up."""
    totals: dict[str, dict[int, float]] = {"process": {}, "dask": {}}
    for units in (FEW, count):
        day_keys = days(units)
        end = _end(day_keys)
        with temporary_project({"noop.py": NOOP.format(end=end)}) as root:
            for executor in totals:
                totals[executor][units] = _cli_backfill(root, end, executor)
    per_unit = {
        executor: (times[count] - times[FEW]) / (count - FEW) * 1000
        for executor, times in totals.items()
    }
    process, dask = totals["process"][count], totals["dask"][count]
    report(
        f"Scheduling overhead: {count} no-op units, 2 workers (a fresh partita each)",
        [
            ("local processes", f"{process:.2f} s ({per_unit['process']:.1f} ms/unit)"),
            ("local Dask cluster", f"{dask:.2f} s ({per_unit['dask']:.1f} ms/unit)"),
            ("dask / processes, whole run", f"{dask / process:.2f}x"),
            (
                "dask / processes, per unit (start-up excluded)",
                f"{per_unit['dask'] / max(per_unit['process'], 1e-3):.2f}x",
            ),
        ],
    )


def dask_backfill(count: int, rows: int) -> None:
    day_keys = days(count)
    end = _end(day_keys)
    raw = measure_raw(day_keys, rows, 1)
    os.environ["PARTITA_BENCH_ROWS"] = str(rows)
    os.environ["PYTHONPATH"] = str(REPO)  # the workers import tests.benchmarks.workload
    source = ASSETS.format(start=day_keys[0], end=end)
    with temporary_project({"chain.py": source}) as root:
        dask = _cli_backfill(root, end, "dask")
        process = _cli_backfill(root, end, "process")  # the realistic floor for Dask
    report(
        f"Backfill on Dask: {count} days x {rows:,} rows, 3 assets, --executor dask --workers 2",
        [
            ("hand-written loop (sequential)", f"{raw:.2f} s"),
            ("partita on a local Dask cluster", f"{dask:.2f} s"),
            ("partita in local processes (reference)", f"{process:.2f} s"),
            ("dask / raw (target <= 0.7x)", f"{dask / raw:.2f}x"),
            ("processes / raw", f"{process / raw:.2f}x"),
            (
                f"dask - processes, per unit ({3 * count} units)",
                f"{(dask - process) / (3 * count) * 1000:.1f} ms",
            ),
        ],
    )


def catalog_rate(units: int) -> None:
    from datetime import UTC, datetime

    from partita.catalog import MaterializationRecord
    from partita.catalog.postgres import PostgresCatalog
    from partita.catalog.sqlite import SQLiteCatalog
    from tests.servers.postgres import PostgresServer

    def lease_and_record(catalog) -> float:
        moment = datetime.now(UTC)
        times = (
            moment,
            moment,
            1,
            1,
            1,
            "v",
            "c",
        )  # started, finished, attempts, rows, bytes, versions

        def work() -> None:
            for index in range(units):
                key = f"p{index:06d}"
                assert catalog.acquire_lease("a", key, "run", moment, 30.0) is None
                catalog.record(MaterializationRecord("a", key, "run", "materialized", *times))

        return units / timed(work)

    folder = Path(tempfile.mkdtemp(prefix="partita-bench-catalog-"))
    server = PostgresServer()
    try:
        with SQLiteCatalog(folder / "catalog.db") as sqlite:
            sqlite_rate = lease_and_record(sqlite)
        with PostgresCatalog(server.new_schema()) as postgres:
            postgres_rate = lease_and_record(postgres)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    report(
        f"Catalog: lease + record of one unit, {units} units, one process",
        [
            ("SQLite", f"{sqlite_rate:,.0f} units/s"),
            ("PostgreSQL (127.0.0.1)", f"{postgres_rate:,.0f} units/s"),
            ("postgres / sqlite", f"{postgres_rate / sqlite_rate:.2f}x"),
        ],
    )


def run(smoke: bool) -> None:
    import sys

    sys.path.insert(0, str(REPO))
    scheduling_overhead(8 if smoke else 200)
    dask_backfill(3 if smoke else 366, 100 if smoke else 10_000)
    catalog_rate(50 if smoke else 2_000)
