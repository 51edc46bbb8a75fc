"""Workers never outlive the process that leased their units (issue 17, points 1 and 6).

A `--workers 2` backfill of an asset that sleeps: the coordinator (the CLI process) is
SIGKILLed or sent SIGTERM while both workers are inside the asset. No worker survives it
(checked by pid), nothing is published after it ended, and the next run leaves the
catalog agreeing with the files on disk.
"""

from __future__ import annotations

import os
import signal
import subprocess

from processes import kill_all, running, wait_for

from partita.storage.encoding import data_version

from . import catalog_rows, leased_units, parquet_files, published_states
from .test_crash import as_table

SLOW = """
import os
import time
from pathlib import Path

import pyarrow as pa
from partita import DailyPartitions, asset

HERE = Path(__file__).parent


@asset(partitions=DailyPartitions(start="2024-01-01"), code_version="1")
def slow(context):
    (HERE / "started").mkdir(exist_ok=True)
    (HERE / "started" / context.partition_key).write_text(str(os.getpid()))
    time.sleep(float((HERE / "sleep.txt").read_text()))
    generation = int((HERE / "generation.txt").read_text())
    return pa.table({"day": [int(context.partition_key[-2:])], "v": [generation]})
"""

DAYS = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
BACKFILL = ("backfill", "slow", "--from", DAYS[0], "--to", DAYS[-1], "--now", "2024-01-05")


def start_backfill(project, generation: int, sleep: float) -> subprocess.Popen:
    project.write("assets/slow.py", SLOW)
    (project.root / "assets" / "generation.txt").write_text(str(generation))
    (project.root / "assets" / "sleep.txt").write_text(str(sleep))
    return subprocess.Popen(
        [*__import__("conftest").PARTITA, *BACKFILL, "--workers", "2", "--json"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def worker_pids(project) -> set[int]:
    """The pids of the processes that entered the asset (each writes its own)."""
    folder = project.root / "assets" / "started"
    return {int(p.read_text()) for p in folder.iterdir() if p.read_text()}


def both_workers_inside(project) -> bool:
    folder = project.root / "assets" / "started"
    return folder.is_dir() and len(worker_pids(project)) == 2


def test_a_killed_coordinator_leaves_no_worker_and_no_late_write(project) -> None:
    coordinator = start_backfill(project, generation=1, sleep=30)
    pids: set[int] = set()
    try:
        wait_for(lambda: both_workers_inside(project), what="both workers inside the asset")
        pids = worker_pids(project)
        assert coordinator.pid not in pids  # the workers run the asset, not the coordinator
        os.kill(coordinator.pid, signal.SIGKILL)
        coordinator.wait(timeout=60)

        wait_for(lambda: not any(running(pid) for pid in pids), 20, "the workers to die")
        # Nothing was published by the dead run, and no process of it is left to publish.
        assert parquet_files(project.warehouse, "slow") == {}
        assert published_states(project.root, "slow") == {}
        # Two units running, one queued behind each: all four leased by the dead run.
        assert leased_units(project.root) == {("slow", day) for day in DAYS}
    finally:
        kill_all([coordinator.pid, *pids])

    (project.root / "assets" / "sleep.txt").write_text("0")
    (project.root / "assets" / "generation.txt").write_text("2")
    rerun = project.cli(*BACKFILL, "--workers", "2", "--json", check=0).json()
    assert {r["partition"]: r["status"] for r in rerun["results"]} == dict.fromkeys(
        DAYS, "materialized"
    )
    files = parquet_files(project.warehouse, "slow")
    states = published_states(project.root, "slow")
    assert sorted(states) == DAYS
    for name, body in files.items():
        key = name.split("/")[0].removeprefix("date=")
        assert states[key][0] == data_version(body)  # catalog = disk
        assert as_table("parquet", body)["v"].to_pylist() == [2]


def test_sigterm_interrupts_the_run_records_it_and_stops_the_workers(project) -> None:
    coordinator = start_backfill(project, generation=1, sleep=30)
    pids: set[int] = set()
    try:
        wait_for(lambda: both_workers_inside(project), what="both workers inside the asset")
        pids = worker_pids(project)
        os.kill(coordinator.pid, signal.SIGTERM)
        stdout, stderr = coordinator.communicate(timeout=60)

        assert coordinator.returncode == 143, (stdout, stderr)
        assert stderr.splitlines() == [
            "terminated (SIGTERM): the unit in progress was not recorded as materialized and "
            "the run is recorded as interrupted. Run the same command again to do what remains."
        ]
        assert [pid for pid in pids if running(pid)] == []
    finally:
        kill_all([coordinator.pid, *pids])
    [run] = project.cli("runs", "--json", check=0).json()["runs"]
    assert run["status"] == "interrupted"
    assert leased_units(project.root) == set()
    attempts = catalog_rows(
        project.root, "SELECT partition, status, error FROM materializations ORDER BY partition"
    )
    # The units running and the ones queued behind them.
    assert attempts == [(day, "interrupted", "interrupted (SIGTERM)") for day in DAYS]
    assert parquet_files(project.warehouse, "slow") == {}
