"""`--executor dask` behaves as local processes do: a unit whose worker is killed runs again
per its `Retry`, `--order`, `--max-failures` and `--retry-failed` hold, and every unit
reaches the run's listeners (the progress bar among them)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime

from partita import load_project
from partita.app.requests import RunRequest
from partita.catalog import open_catalog
from partita.execution.events import RunListener

DASK = ("--executor", "dask")
NOW = "2024-01-05"

CRASHY = """
import os
import signal
from pathlib import Path

import pandas as pd
from partita import DailyPartitions, Retry, asset

HERE = Path(__file__).parent
DAYS = DailyPartitions(start="2024-01-01", end="2024-01-03")


@asset(partitions=DAYS, retry=Retry(max_attempts=2, initial_delay=0))
def crashy(context) -> pd.DataFrame:
    marker = HERE / f"crashed-{context.partition_key}"
    if context.partition_key == "2024-01-01" and not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)  # the Dask worker dies mid-unit
    return pd.DataFrame({"day": [context.partition_key]})
"""


def test_a_unit_whose_worker_is_killed_runs_again_per_its_retry(project) -> None:
    project.write("assets/crashy.py", CRASHY)
    result = project.cli("materialize", "--now", NOW, *DASK, "--workers", "2", "--json", check=0)
    by_day = {r["partition"]: r for r in result.json()["results"]}
    assert by_day["2024-01-01"]["status"] == "materialized"
    assert by_day["2024-01-01"]["attempts"] == 2  # the killed attempt counts
    assert by_day["2024-01-02"]["attempts"] == 1
    assert (project.root / "assets" / "crashed-2024-01-01").exists()  # it did crash once
    with open_catalog(project.warehouse) as catalog:
        (record,) = catalog.history("crashy", "2024-01-01")
        assert record.status == "materialized" and record.attempts == 2
        assert catalog.state("crashy", "2024-01-01").data_version is not None
    assert list(project.warehouse.glob("crashy/date=2024-01-01/*.parquet"))


ORDERED = """
from pathlib import Path

import pandas as pd
from partita import DailyPartitions, asset

HERE = Path(__file__).parent
DAYS = DailyPartitions(start="2024-01-01", end="2024-01-05")


@asset(partitions=DAYS)
def ordered(context) -> pd.DataFrame:
    with (HERE / "calls.txt").open("a") as calls:
        calls.write(context.partition_key + "\\n")
    return pd.DataFrame({"day": [context.partition_key]})
"""


def test_newest_first_runs_the_newest_partitions_first_on_dask(project) -> None:
    project.write("assets/ordered.py", ORDERED)
    project.cli("materialize", "--now", NOW, *DASK, "--workers", "1", "--order", "newest-first")
    calls = (project.root / "assets" / "calls.txt").read_text().split()
    assert calls == ["2024-01-04", "2024-01-03", "2024-01-02", "2024-01-01"]


FLAKY = """
from pathlib import Path

import pandas as pd
from partita import DailyPartitions, asset

HERE = Path(__file__).parent
DAYS = DailyPartitions(start="2024-01-01", end="2024-01-05")


@asset(partitions=DAYS)
def flaky(context) -> pd.DataFrame:
    if (HERE / f"broken-{context.partition_key}").exists():
        raise ValueError(f"broken on {context.partition_key}")
    return pd.DataFrame({"day": [context.partition_key]})
"""


def test_max_failures_then_retry_failed_on_dask(project) -> None:
    project.write("assets/flaky.py", FLAKY)
    days = [f"2024-01-0{d}" for d in range(1, 5)]
    for day in days:
        (project.root / "assets" / f"broken-{day}").touch()
    # One worker holds two units (one running, one queued): the first failure opens the
    # breaker, so the queued unit still runs and the two others never start.
    first = project.cli(
        "materialize", "--now", NOW, *DASK, "--workers", "1", "--max-failures", "1", "--json"
    )
    assert first.exit_code != 0
    statuses = {r["partition"]: r["status"] for r in first.json()["results"]}
    assert statuses == dict(zip(days, ["failed", "failed", "skipped", "skipped"], strict=True))
    skipped = [r for r in first.json()["results"] if r["status"] == "skipped"]
    assert all("--max-failures 1" in r["reason"] for r in skipped)

    (project.root / "assets" / "broken-2024-01-01").unlink()
    again = project.cli("materialize", "--now", NOW, *DASK, "--retry-failed", "--json")
    assert again.exit_code != 0
    statuses = {r["partition"]: r["status"] for r in again.json()["results"]}
    # Only the units whose last attempt failed; the skipped ones never had one.
    assert statuses == {"2024-01-01": "materialized", "2024-01-02": "failed"}


class _Recorder(RunListener):
    def __init__(self) -> None:
        self.started: list[tuple[str, str | None]] = []
        self.finished: list[tuple[str, str | None, str]] = []

    def unit_started(self, run_id, unit, reason) -> None:
        self.started.append(unit.unit)

    def unit_finished(self, run_id, result, record) -> None:
        self.finished.append((result.asset, result.partition, result.status.value))


def test_every_unit_reaches_the_run_listeners_on_dask(project) -> None:
    project.write("assets/flaky.py", FLAKY)
    (project.root / "assets" / "broken-2024-01-03").touch()
    recorder = _Recorder()
    with load_project(project.root).session() as session:
        report = session.run(
            RunRequest(
                now=datetime(2024, 1, 5, tzinfo=UTC), workers=2, executor="dask", command="test"
            ),
            [recorder],
        )
    days = [f"2024-01-0{d}" for d in range(1, 5)]
    assert sorted(recorder.started) == [("flaky", d) for d in days]
    assert sorted(recorder.finished) == [
        ("flaky", d, "failed" if d == "2024-01-03" else "materialized") for d in days
    ]
    assert len(report.results) == 4


def test_the_progress_bar_counts_every_unit_on_dask(project) -> None:
    project.write("assets/flaky.py", FLAKY)
    (project.root / "assets" / "broken-2024-01-03").touch()
    terminal, stderr = os.openpty()  # the bar is drawn only on a terminal
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # the other end closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        run = subprocess.run(
            [sys.executable, "-m", "partita", "materialize", "--now", NOW, *DASK],
            cwd=project.root,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env={**os.environ, "COLUMNS": "200", "TERM": "xterm"},
            timeout=300,
        )
    finally:
        os.close(stderr)
        reader.join(timeout=10)
        os.close(terminal)
    shown = b"".join(chunks).decode(errors="replace")
    assert run.returncode != 0, shown
    assert "materializing" in shown
    assert "4/4" in shown and "1 failed" in shown


SLEEPY = """
import os
import time
from pathlib import Path

import pandas as pd
from partita import DailyPartitions, Retry, asset

HERE = Path(__file__).parent
DAYS = DailyPartitions(start="2024-01-01", end="2024-01-03")


@asset(partitions=DAYS, timeout="2s", retry=Retry(max_attempts=2, initial_delay=0))
def sleepy(context) -> pd.DataFrame:
    with (HERE / "calls.txt").open("a") as calls:
        calls.write(f"{context.partition_key} {os.getpid()}\\n")
    if context.partition_key == "2024-01-01":
        time.sleep(600)
    return pd.DataFrame({"day": [context.partition_key]})
"""


def test_a_unit_past_its_timeout_is_stopped_and_retried_on_dask(project) -> None:
    project.write("assets/sleepy.py", SLEEPY)
    result = project.cli("materialize", "--now", NOW, *DASK, "--workers", "2", "--json", check=1)
    by_day = {r["partition"]: r for r in result.json()["results"]}
    stopped = by_day["2024-01-01"]
    assert stopped["status"] == "failed" and stopped["attempts"] == 2
    assert stopped["error"].startswith(
        "asset 'sleepy' partition 2024-01-01: timed out after 2s (its Dask worker, tcp://"
    )
    assert "give it a longer timeout=" in stopped["error"]
    assert by_day["2024-01-02"]["status"] == "materialized"
    calls = [
        line.split() for line in (project.root / "assets" / "calls.txt").read_text().splitlines()
    ]
    sleepers = [int(pid) for day, pid in calls if day == "2024-01-01"]
    assert len(sleepers) == 2  # retried once, as Retry allows
    assert not list(project.warehouse.glob("sleepy/date=2024-01-01/*"))  # nothing published


def test_a_timed_out_unit_stops_its_worker_on_a_scheduler(project, dask_servers) -> None:
    project.write("assets/sleepy.py", SLEEPY.replace("max_attempts=2", "max_attempts=1"))
    result = project.cli(
        "materialize", "--now", NOW, "--executor", dask_servers.address, "--json", check=1
    )
    by_day = {r["partition"]: r for r in result.json()["results"]}
    assert by_day["2024-01-01"]["error"].startswith(
        "asset 'sleepy' partition 2024-01-01: timed out after 2s (its Dask worker, tcp://"
    )
    assert by_day["2024-01-02"]["status"] == "materialized"
    lines = (project.root / "assets" / "calls.txt").read_text().splitlines()
    (sleeper,) = [int(line.split()[1]) for line in lines if line.startswith("2024-01-01")]
    # The worker process that slept was stopped (these workers have no nanny: it stays
    # down until the fixture starts another); the other one still runs.
    (worker,) = [worker for worker in dask_servers.workers if worker.pid == sleeper]
    assert worker.wait(timeout=30) == -signal.SIGKILL
    assert len(dask_servers.worker_pids()) == 1


def test_a_run_whose_workers_are_all_stopped_fails_instead_of_waiting(
    project, dask_servers
) -> None:
    # Both nanny-less workers are stopped for sleeping past the timeout; the third unit
    # would wait forever for a worker: the run fails, naming it, and releases its lease.
    project.write(
        "assets/sleepy.py",
        SLEEPY.replace("max_attempts=2", "max_attempts=1")
        .replace('end="2024-01-03"', 'end="2024-01-04"')
        .replace('== "2024-01-01"', 'in ("2024-01-01", "2024-01-02")'),
    )
    result = project.cli("materialize", "--now", NOW, "--executor", dask_servers.address)
    assert result.exit_code != 0
    assert f"the Dask scheduler {dask_servers.address} has had no workers for 20 s" in (
        result.stderr
    )
    assert "asset 'sleepy' partition 2024-01-03" in result.stderr
    assert dask_servers.worker_pids() == []
    with open_catalog(project.warehouse) as catalog:
        assert catalog.lease_holder("sleepy", "2024-01-03") is None
