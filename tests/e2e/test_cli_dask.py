"""The real CLI with `--executor dask`: a local Dask cluster started for the run gives the
same data as local processes, and leaves no process behind."""

from __future__ import annotations

import json
import subprocess
import sys

from servers.workload import NOW, data_versions, write_project

PARTITA = [sys.executable, "-m", "partita"]


def cli(root, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [*PARTITA, *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_a_local_dask_cluster_materializes_what_local_processes_do(tmp_path) -> None:
    local = write_project(tmp_path / "local")
    dask = write_project(tmp_path / "dask", 'executor = "dask"')
    days = ["+summary", "--from", "2024-01-01", "--to", "2024-01-06"]

    done = cli(local, "backfill", *days, "--now", NOW, "--workers", "2")
    assert done.returncode == 0, done.stderr
    done = cli(dask, "backfill", *days, "--now", NOW, "--workers", "2", "--json")
    assert done.returncode == 0, done.stderr

    expected = data_versions(local)
    assert len(expected) == 3 * 6
    assert data_versions(dask) == expected
    # The same again plans nothing, on the cluster too.
    again = cli(dask, "backfill", *days, "--now", NOW, "--executor", "dask", "--json")
    assert again.returncode == 0, again.stderr
    assert {r["status"] for r in json.loads(again.stdout)["results"]} == {"up_to_date"}


WHERE = """
import os
import pathlib

import pyarrow as pa
from partita import DailyPartitions, DuckDB, asset

DAILY = DailyPartitions(start="2024-01-01")
HERE = pathlib.Path(__file__).parent


def note(name, context):
    (HERE / f"{name}-{context.partition_key}.pid").write_text(str(os.getpid()))


@asset(partitions=DAILY)
def events(context):
    note("events", context)
    return pa.table({"n": [1, 2]})


@asset(partitions=DAILY, storage=DuckDB(database="marts.duckdb"))
def mart(context, events):
    note("mart", context)
    return pa.table({"total": [int(events["n"].sum())]})


@asset(partitions=DAILY)
def report(context, mart: pa.Table):
    note("report", context)
    return pa.table({"doubled": [2 * int(mart["total"][0].as_py())]})
"""


def test_duckdb_units_are_computed_on_workers_and_written_by_the_coordinator(tmp_path) -> None:
    root = write_project(tmp_path / "project", 'executor = "dask"')
    (root / "assets" / "workload.py").write_text(WHERE)
    days = ["--from", "2024-01-01", "--to", "2024-01-02", "--now", NOW]
    run = subprocess.Popen(
        [*PARTITA, "backfill", "+report", *days, "--workers", "2"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stdout + stderr

    pids = {path.stem: int(path.read_text()) for path in (root / "assets").glob("*.pid")}
    assets = ("events", "mart", "report")
    assert set(pids) == {f"{a}-2024-01-0{d}" for a in assets for d in (1, 2)}
    assert run.pid not in pids.values()  # every unit computed on a worker
    # The coordinator wrote the DuckDB rows and sent them to `report`, which read them.
    shown = cli(root, "show", "report", "--json")
    assert shown.returncode == 0, shown.stderr
    assert [row["doubled"] for row in json.loads(shown.stdout)] == [6, 6]
