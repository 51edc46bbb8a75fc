"""A restore racing a run on the same partition is serialized by leases: the rollback
waits while a materialize run holds the partition, then restores after it, keeping what
that run wrote; the history stays linear."""

from __future__ import annotations

import os
import subprocess
import sys

from processes import kill_all, wait_for

from partita import load_project

from . import catalog_rows, leased_units

NOW = "2024-01-04"
ASSETS = """
import pathlib
import time

import pyarrow as pa
from partita import DailyPartitions, asset

ROOT = pathlib.Path(__file__).parent.parent


@asset(partitions=DailyPartitions(start="2024-01-01"), code_version="1")
def data(context):
    generation = int((ROOT / "generation.txt").read_text())
    if context.partition_key == "2024-01-02" and (ROOT / "hold").exists():
        (ROOT / "holding").write_text("")
        while not (ROOT / "release").exists():
            time.sleep(0.02)
    return pa.table({"day": [context.partition_key], "generation": [generation]})
"""


def start(project, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "partita", *args],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def restored(project, partition: str) -> bool:
    rows = catalog_rows(
        project.root,
        "SELECT restored FROM partition_states WHERE asset = 'data' AND partition = ?",
        (partition,),
    )
    return rows == [(1,)]


def test_a_rollback_waits_for_the_run_holding_a_partition(project) -> None:
    project.write("assets/data.py", ASSETS)
    (project.root / "generation.txt").write_text("1")
    project.cli("materialize", "--now", NOW, check=0)
    (project.root / "generation.txt").write_text("2")
    project.cli("materialize", "--force", "--now", NOW, check=0)
    bad_run = project.cli("runs", "--json", check=0).json()["runs"][0]["run_id"]

    (project.root / "generation.txt").write_text("3")
    (project.root / "hold").write_text("")
    processes = []
    try:
        run = start(project, "materialize", "--force", "--partition", "2024-01-02", "--now", NOW)
        processes.append(run)
        wait_for(lambda: (project.root / "holding").exists(), what="the run to hold 2024-01-02")
        rollback = start(project, "rollback", bad_run, "--json")
        processes.append(rollback)
        wait_for(lambda: restored(project, "2024-01-01"), what="the rollback to reach 2024-01-02")
        assert not restored(project, "2024-01-02")  # waiting for the lease
        (project.root / "release").write_text("")
        run_out, run_err = run.communicate(timeout=120)
        assert run.returncode == 0, (run_out, run_err)
        rollback_out, rollback_err = rollback.communicate(timeout=120)
        assert rollback.returncode == 0, (rollback_out, rollback_err)
    finally:
        kill_all(process.pid for process in processes)

    history = catalog_rows(
        project.root,
        "SELECT run_id, restored, data_version FROM materializations "
        "WHERE asset = 'data' AND partition = '2024-01-02' ORDER BY id",
    )
    session = load_project(project.root)
    storage = session.storage("data")
    generations = [
        storage.read_version("2024-01-02", version).column("generation").to_pylist()[0]
        for _, _, version in history
    ]
    assert generations == [1, 2, 3, 1]  # the run's write, then the restore: linear
    assert [flag for _, flag, _ in history] == [0, 0, 0, 1]
    assert session.read("data", "2024-01-02")["generation"].tolist() == [1]
    assert leased_units(project.root) == set()
