"""The cluster end to end, with real servers: a `dask scheduler` and two workers, the
PostgreSQL catalog, the warehouse on S3. The workload (three daily assets, 60 days) gives
the data versions of the local default; a worker killed mid-run loses nothing and the next
run finishes exactly the rest; the catalog's password appears nowhere."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from processes import wait_for
from servers.workload import DAYS, NOW, data_versions, write_project

from partita import load_project
from partita.catalog import open_catalog

PARTITA = [sys.executable, "-m", "partita"]
HELD = "2024-01-20"


def start(root, *args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [*PARTITA, *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=300)
    return process.returncode, stdout, stderr


def test_the_workload_on_dask_postgres_and_s3_matches_local_and_survives_a_killed_worker(
    tmp_path, postgres_server, dask_servers, s3_server, monkeypatch
) -> None:
    local = write_project(tmp_path / "local")
    settings = f'executor = "{dask_servers.address}"\nwarehouse = "{s3_server.new_prefix()}"'
    cluster = write_project(tmp_path / "cluster", settings)
    catalog = postgres_server.new_schema()  # with the password: the coordinator's setting
    env = {"PARTITA_CATALOG": catalog}  # (and the AWS_* variables of s3_server)
    run = ["backfill", "+summary", "--from", "2024-01-01", "--to", "2024-02-29", "--now", NOW]
    code, _, stderr = finish(start(local, *run, "--workers", "2", env={}))
    assert code == 0, stderr

    # One unit waits in its worker until the test has killed that worker.
    hold = cluster / "assets" / f"hold-{HELD}"
    hold.write_text("")
    process = start(cluster, *run, "--json", env=env)
    pid_file = cluster / "assets" / f"pid-{HELD}"
    wait_for(
        lambda: pid_file.exists() or process.poll() is not None,
        what="the held unit to start on a worker",
    )
    assert process.poll() is None, finish(process)
    pid = int(pid_file.read_text())
    assert pid in dask_servers.worker_pids()
    os.kill(pid, signal.SIGKILL)
    hold.unlink()
    code, stdout, stderr = finish(process)

    assert code == 1, stderr
    results = {(r["asset"], r["partition"]): r for r in json.loads(stdout)["results"]}
    killed = results[("raw", HELD)]
    assert killed["status"] == "failed" and "died" in killed["error"], killed
    assert {results[(a, HELD)]["status"] for a in ("cleaned", "summary")} == {"skipped"}
    assert sum(r["status"] == "materialized" for r in results.values()) == 3 * DAYS - 3
    with open_catalog(cluster / "warehouse", catalog) as opened:
        state = opened.state("raw", HELD)
        assert state is not None and state.last_status == "failed" and state.data_version is None
        assert opened.lease_holder("raw", HELD) is None
    monkeypatch.setenv("PARTITA_CATALOG", catalog)  # for this process's look at the data
    assert not load_project(cluster).storage("raw").exists(HELD)

    # The next run (a new worker in place of the dead one) does exactly the rest.
    dask_servers.ensure_workers()
    code, stdout, stderr = finish(start(cluster, *run, "--json", env=env))
    assert code == 0, stderr
    ran = {(r["asset"], r["partition"]) for r in json.loads(stdout)["results"]}
    redone = {u for u in ran if results_status(stdout, u) == "materialized"}
    assert redone == {("raw", HELD), ("cleaned", HELD), ("summary", HELD)}
    assert data_versions(cluster, catalog) == data_versions(local)

    # The password: not in any output, nor in the run records, nor on the workers.
    for text in (stdout, stderr):
        assert postgres_server.password not in text
    with open_catalog(cluster / "warehouse", catalog) as opened:
        assert all(postgres_server.password not in run.command for run in opened.runs())
    for log in dask_servers.folder.glob("*.log"):
        assert postgres_server.password not in log.read_text(errors="replace")


def results_status(stdout: str, unit: tuple[str, str]) -> str:
    for result in json.loads(stdout)["results"]:
        if (result["asset"], result["partition"]) == unit:
            return result["status"]
    raise AssertionError(unit)


def test_a_scheduler_that_goes_away_fails_the_run_and_releases_its_leases(tmp_path) -> None:
    from servers.dask import DaskServers

    servers = DaskServers()  # its own: this test kills the scheduler
    try:
        project = write_project(tmp_path / "project", f'executor = "{servers.address}"')
        hold = project / "assets" / "hold-2024-01-03"
        hold.write_text("")
        run = ["backfill", "raw", "--from", "2024-01-01", "--to", "2024-01-05", "--now", NOW]
        process = start(project, *run, env={})
        wait_for((project / "assets" / "pid-2024-01-03").exists, what="the held unit to start")
        os.kill(servers.scheduler.pid, signal.SIGKILL)
        code, stdout, stderr = finish(process)
    finally:
        hold.unlink(missing_ok=True)
        servers.stop()

    assert code == 1, (stdout, stderr)
    assert "went away during the run" in stderr, stderr
    assert "raw' partition 2024-01-03" in stderr
    assert "Traceback" not in stderr
    with open_catalog(project / "warehouse") as opened:
        assert all(opened.lease_holder("raw", f"2024-01-0{day}") is None for day in range(1, 6))
        state = opened.state("raw", "2024-01-03")
        assert state is None or state.last_status != "materialized"
        (run_record,) = opened.runs()
        assert run_record.status == "failed"


def test_workers_publish_nothing_for_a_coordinator_that_was_killed(tmp_path, dask_servers) -> None:
    # Killed, the coordinator leaves its leases held until they expire: the lease check
    # alone would let its workers publish data no run will ever record.
    project = write_project(tmp_path / "project", f'executor = "{dask_servers.address}"')
    assets = project / "assets"
    days = [f"2024-01-{day:02d}" for day in range(1, 13)]
    holds = [assets / f"hold-{day}" for day in days]
    for hold in holds:
        hold.write_text("")
    process = start(project, "backfill", "raw", "--from", days[0], "--to", days[-1], env={})
    try:
        wait_for(
            lambda: len(list(assets.glob("pid-*"))) == 2 or process.poll() is not None,
            what="a unit to begin on each worker",
        )
        assert process.poll() is None, finish(process)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        wait_for(lambda: not _wanted_tasks(dask_servers.address), what="the scheduler to notice")
    finally:
        for hold in holds:
            hold.unlink(missing_ok=True)
        if process.poll() is None:
            process.kill()

    wait_for(lambda: _workers_idle(dask_servers.address), what="the workers to finish")
    # (The two writers may leave an empty `raw` folder: each removes only the folders it made.)
    assert [p for p in (project / "warehouse" / "raw").rglob("*") if p.is_file()] == []


def _wanted_tasks(address: str) -> int:
    from distributed import Client

    def wanted(dask_scheduler) -> int:
        return sum(bool(task.who_wants) for task in dask_scheduler.tasks.values())

    with Client(address, timeout=30) as client:
        return client.run_on_scheduler(wanted)


def _workers_idle(address: str) -> bool:
    from distributed import Client

    def tasks(dask_worker) -> int:
        return len(dask_worker.state.tasks)

    with Client(address, timeout=30) as client:
        return not any(client.run(tasks).values())
