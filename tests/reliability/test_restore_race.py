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


def a_bad_run(project) -> str:
    """Generation 1 of every day, then generation 2 forced over it: that run's id."""
    project.write("assets/data.py", ASSETS)
    (project.root / "generation.txt").write_text("1")
    project.cli("materialize", "--now", NOW, check=0)
    (project.root / "generation.txt").write_text("2")
    project.cli("materialize", "--force", "--now", NOW, check=0)
    bad_run = project.cli("runs", "--json", check=0).json()["runs"][0]["run_id"]
    return bad_run


def test_a_rollback_waits_for_the_run_holding_a_partition(project) -> None:
    bad_run = a_bad_run(project)

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


def test_a_run_waits_for_the_rollback_holding_a_partition(project, monkeypatch) -> None:
    """The other way round: while a rollback holds 2024-01-02 (it is paused just before
    publishing), a run with --no-wait reports the partition locked, and a waiting run
    writes only after the restore, so the restore never overwrites the newer data."""
    import threading

    from partita.app.session import open_session
    from partita.app.undo import rollback_targets
    from partita.execution.restore import execute_restores
    from partita.storage.parquet import ParquetStorage

    bad_run = a_bad_run(project)

    entered, release = threading.Event(), threading.Event()
    original = ParquetStorage.restore

    def paused_restore(self, partition, data_version, before_publish=None):
        entered.set()
        assert release.wait(120), "the test never released the restore"
        return original(self, partition, data_version, before_publish)

    monkeypatch.setattr(ParquetStorage, "restore", paused_restore)
    session = open_session(project.root)
    targets = [t for t in rollback_targets(session, bad_run) if t.partition == "2024-01-02"]
    reports = []
    rollback = threading.Thread(
        target=lambda: reports.append(
            execute_restores(session.graph, session.warehouse, session.catalog, targets)
        )
    )
    (project.root / "generation.txt").write_text("3")
    processes = []
    try:
        rollback.start()
        assert entered.wait(60), "the rollback never reached its restore"
        locked = project.cli(
            "materialize", "--force", "--no-wait", "--partition", "2024-01-02", "--now", NOW
        )
        assert "locked by run" in locked.stdout, locked.stdout
        run = start(project, "materialize", "--force", "--partition", "2024-01-02", "--now", NOW)
        processes.append(run)
        wait_for(lambda: len(catalog_rows(project.root, "SELECT 1 FROM runs")) >= 5, what="run")
        release.set()
        rollback.join(120)
        run_out, run_err = run.communicate(timeout=120)
        assert run.returncode == 0, (run_out, run_err)
    finally:
        release.set()
        kill_all(process.pid for process in processes)
        session.close()

    assert [r.status for r in reports[0].results] == ["restored"]
    history = catalog_rows(
        project.root,
        "SELECT restored, data_version FROM materializations WHERE asset = 'data' "
        "AND partition = '2024-01-02' AND status = 'materialized' ORDER BY id",
    )
    storage = load_project(project.root).storage("data")
    generations = [
        storage.read_version("2024-01-02", version).column("generation").to_pylist()[0]
        for _, version in history
    ]
    assert generations == [1, 2, 1, 3]  # the restore, then the run that waited for it
    assert [flag for flag, _ in history] == [0, 0, 1, 0]
    assert load_project(project.root).read("data", "2024-01-02")["generation"].tolist() == [3]
    assert leased_units(project.root) == set()
