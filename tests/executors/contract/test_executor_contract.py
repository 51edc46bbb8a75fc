"""The contract every executor passes (inline, the process pool, a local Dask cluster): it
runs the jobs it is given, reports each outcome exactly once, fails a crashing
job alone, refuses a job planned with other code, and leaves no process behind on close.

A job is self-contained: the executors get `UnitJob`s naming the project root and code
version, built here as the runner builds them, and the pool's workers load the project
themselves. "Crashing" is a SIGSEGV in the worker thread running the job, an exception
inline (a SIGSEGV would end the test process itself).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from processes import running

from partita import load_project
from partita.catalog import open_catalog
from partita.execution.publishing import LeaseGuard
from partita.execution.unit import UnitJob, Workspace
from partita.executors import InlineExecutor, ProcessExecutor
from partita.executors.dask import DaskExecutor

NUMBERS = """
import os
import signal
import threading
import time
from pathlib import Path

import pyarrow as pa
from partita import DailyPartitions, asset

HERE = Path(__file__).parent


@asset(partitions=DailyPartitions(start="2024-01-01"), code_version="1")
def numbers(context):
    day = int(context.partition_key[-2:])
    (HERE / "pids").mkdir(exist_ok=True)
    (HERE / "pids" / context.partition_key).write_text(str(os.getpid()))
    crash_day = HERE / "crash_day"
    if crash_day.exists() and day == int(crash_day.read_text()):
        if os.getpid() == int(os.environ["COORDINATOR_PID"]):
            raise RuntimeError("crashed")
        # A worker process dying a moment after finishing another job may take the report
        # of that job with it (Dask sends it in batches): give the report time to leave.
        time.sleep(0.2)
        # Sent to this thread, as a real fault is: os.kill would send it to the process,
        # whose main thread takes it (a Dask task runs in another thread), and this thread
        # could go on, under load, to write the unit before the process dies.
        signal.pthread_kill(threading.get_ident(), signal.SIGSEGV)
    return pa.table({"day": [day], "square": [day * day]})
"""

KINDS = ["inline", "pool", "dask"]
DAYS = [f"2024-01-0{day}" for day in range(1, 7)]


@pytest.fixture
def numbers(project, monkeypatch):
    project.write("assets/numbers.py", NUMBERS)
    monkeypatch.setenv("COORDINATOR_PID", str(os.getpid()))
    return project


class Harness:
    """An executor of one kind over the project, with the run and leases a runner holds."""

    def __init__(self, project, kind: str) -> None:
        loaded = load_project(project.root)
        self.graph = loaded.graph
        self.catalog = open_catalog(loaded.warehouse)
        self.run_id = self.catalog.start_run("contract", datetime.now(UTC))
        workspace = Workspace(
            loaded.graph, loaded.warehouse, root=loaded.root, guard=LeaseGuard(self.catalog)
        )
        if kind == "inline":
            self.executor = InlineExecutor(workspace)
        elif kind == "dask":
            self.executor = DaskExecutor(workspace, 2, address=None, catalog=None)
        else:
            self.executor = ProcessExecutor(workspace, workers=2, start_method="spawn")
        self.root = str(loaded.root)

    def job(self, key: str, code_version: str = "1") -> UnitJob:
        partitions = self.graph["numbers"].partitions
        moment = datetime.now(UTC)
        assert self.catalog.acquire_lease("numbers", key, self.run_id, moment, 30.0) is None
        return UnitJob(
            asset="numbers",
            partition=key,
            index=partitions.index(key),
            reads=(),
            run_id=self.run_id,
            previous_watermark=None,
            code_version=code_version,
            root=self.root,
        )

    def run_all(self, jobs: list[UnitJob]) -> dict:
        """Submit within capacity, collect every outcome: unit -> list of outcomes."""
        pending, outcomes, in_flight = list(jobs), {}, 0
        while pending or in_flight:
            while pending and self.executor.has_capacity(in_flight):
                job = pending.pop(0)
                self.executor.submit(("numbers", job.partition), job)
                in_flight += 1
            unit, outcome = self.executor.next_done()
            in_flight -= 1
            outcomes.setdefault(unit, []).append(outcome)
        return outcomes

    def close(self) -> None:
        self.executor.close()
        self.catalog.close()


@pytest.fixture(params=KINDS)
def harness(request, numbers):
    harness = Harness(numbers, request.param)
    try:
        yield harness
    finally:
        harness.close()


def job_pids(project) -> set[int]:
    folder = project.root / "assets" / "pids"
    return {int(path.read_text()) for path in folder.iterdir()} if folder.is_dir() else set()


def test_every_job_runs_and_reports_one_outcome(harness, numbers) -> None:
    outcomes = harness.run_all([harness.job(key) for key in DAYS])

    assert sorted(outcomes) == [("numbers", key) for key in DAYS]
    assert all(len(found) == 1 for found in outcomes.values())
    for (_, key), [outcome] in outcomes.items():
        assert outcome.error is None, outcome.error
        assert (outcome.rows, outcome.attempts) == (1, 1)
        assert (numbers.warehouse / "numbers" / f"date={key}").is_dir()
    # Jobs never record to the catalog (the runner does): read what storage holds.
    stored = numbers.load().storage("numbers").read(list(DAYS))
    assert stored["square"].to_pylist() == [day * day for day in range(1, 7)]


def test_a_crashing_job_fails_alone(harness, numbers) -> None:
    (numbers.root / "assets" / "crash_day").write_text("3")

    outcomes = harness.run_all([harness.job(key) for key in DAYS])

    assert all(len(found) == 1 for found in outcomes.values())
    [crashed] = outcomes[("numbers", "2024-01-03")]
    assert "numbers" in crashed.error and "2024-01-03" in crashed.error
    if isinstance(harness.executor, ProcessExecutor):
        assert "died with SIGSEGV" in crashed.error
    if isinstance(harness.executor, DaskExecutor):
        assert "the Dask worker running asset 'numbers' partition 2024-01-03 died" in crashed.error
    others = {key: found[0] for (_, key), found in outcomes.items() if key != "2024-01-03"}
    assert {key: o.error for key, o in others.items()} == dict.fromkeys(others)
    assert not (numbers.warehouse / "numbers" / "date=2024-01-03").exists()


def test_a_job_planned_with_other_code_is_refused(harness, numbers) -> None:
    outcomes = harness.run_all([harness.job("2024-01-01", code_version="old")])

    [outcome] = outcomes[("numbers", "2024-01-01")]
    assert "asset 'numbers' partition 2024-01-01: not run" in outcome.error
    assert "code version old" in outcome.error and "code version 1 " in outcome.error
    assert job_pids(numbers) == set()  # the asset function was never called


def test_close_leaves_no_process_behind(harness, numbers) -> None:
    harness.run_all([harness.job(key) for key in DAYS[:4]])
    pids = job_pids(numbers)
    assert pids

    harness.close()

    assert [pid for pid in pids - {os.getpid()} if running(pid)] == []


def test_a_job_whose_lease_was_taken_over_publishes_nothing(harness, numbers) -> None:
    job = harness.job("2024-01-02")
    # Another run took the unit over (it judged this run dead) before the job ran.
    harness.catalog.release_lease("numbers", "2024-01-02", harness.run_id)
    assert (
        harness.catalog.acquire_lease("numbers", "2024-01-02", "other-run", datetime.now(UTC), 30.0)
        is None
    )

    outcomes = harness.run_all([job])

    [outcome] = outcomes[("numbers", "2024-01-02")]
    assert outcome.lease_lost, outcome
    assert "no longer holds its lease (held by run other-run" in outcome.error
    assert not (numbers.warehouse / "numbers" / "date=2024-01-02").exists()
