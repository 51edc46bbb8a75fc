"""Batches of units on Dask: how the coordinator cuts them, the start claim on the
scheduler, and on a real local cluster that a worker dying mid-batch counts an attempt for
the unit that had begun only, runs every other unit exactly once, that a task Dask
computes again never runs its units again, and that a batch its coordinator cancelled runs
none of its units not begun."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from processes import wait_for

from partita import load_project
from partita.catalog import open_catalog
from partita.execution.publishing import LeaseGuard
from partita.execution.unit import UnitJob, Workspace
from partita.executors import dask as dask_executor
from partita.executors.dask import DaskExecutor
from partita.executors.dask_batches import take
from partita.executors.dask_task import PRUNE_AT, RAN_BEFORE, began, claim_start, run_jobs

# --- cutting batches --------------------------------------------------------------------


def _pending(timed: list[bool]) -> list[tuple[tuple[str, str], SimpleNamespace]]:
    assets = ["timed" if flag else "plain" for flag in timed]
    return [((asset, str(i)), SimpleNamespace(asset=asset)) for i, asset in enumerate(assets)]


@given(st.lists(st.booleans(), min_size=1, max_size=30), st.integers(1, 6))
def test_batches_keep_the_order_and_put_each_timed_unit_alone(timed, size) -> None:
    pending = _pending(timed)
    original = list(pending)
    batches = []
    while pending:
        batches.append(take(pending, lambda asset: asset == "timed", size))

    assert [item for batch in batches for item in batch] == original
    for batch in batches:
        assert 1 <= len(batch) <= size
        if any(job.asset == "timed" for _, job in batch):
            assert len(batch) == 1


def test_a_batch_takes_as_many_untimed_units_as_it_may() -> None:
    pending = _pending([False] * 5 + [True, False])
    first = take(pending, lambda asset: asset == "timed", 4)
    second = take(pending, lambda asset: asset == "timed", 4)

    assert [unit for unit, _ in first] == [("plain", str(i)) for i in range(4)]
    assert [unit for unit, _ in second] == [("plain", "4")]  # it stops before a timed one
    assert [unit for unit, _ in pending] == [("timed", "5"), ("plain", "6")]


# --- the start claim, on a scheduler object -----------------------------------------------


def test_a_task_claims_its_start_once() -> None:
    scheduler = SimpleNamespace(tasks={"a": object(), "b": object()})

    assert claim_start("a", scheduler) is True
    assert claim_start("a", scheduler) is False  # Dask running it again: refused
    assert began(["a", "b"], scheduler) == ["a"]


def test_claims_of_tasks_the_scheduler_forgot_are_dropped_as_the_set_grows() -> None:
    scheduler = SimpleNamespace(tasks={"kept": object()})
    assert claim_start("kept", scheduler)
    for index in range(PRUNE_AT + 1):
        assert claim_start(f"gone-{index}", scheduler)

    # The pruning kept the claim of the task the scheduler still knows (and the newest).
    assert began(["kept"], scheduler) == ["kept"]
    assert began(["gone-0", "gone-1"], scheduler) == []
    assert claim_start("kept", scheduler) is False


# --- on a local Dask cluster ----------------------------------------------------------------

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
    with (HERE / "calls.txt").open("a") as calls:
        calls.write(context.partition_key + "\\n")
    hold = HERE / f"hold-{day}"
    if hold.exists():  # a test cancels this unit's batch while it waits here
        (HERE / f"began-{day}").touch()
        while hold.exists():
            time.sleep(0.05)
    crash_day = HERE / "crash_day"
    if crash_day.exists() and day == int(crash_day.read_text()):
        time.sleep(0.2)  # the outcomes of the units before it reach the scheduler anyway
        signal.pthread_kill(threading.get_ident(), signal.SIGSEGV)
    return pa.table({"day": [day], "square": [day * day]})
"""

DAYS = [f"2024-01-0{day}" for day in range(1, 7)]


class _Run:
    """A one-worker local cluster executor over the project, with a run holding leases."""

    def __init__(self, project) -> None:
        loaded = load_project(project.root)
        self.project = project
        self.partitions = loaded.graph["numbers"].partitions
        self.catalog = open_catalog(loaded.warehouse)
        self.run_id = self.catalog.start_run("batches", datetime.now(UTC))
        workspace = Workspace(
            loaded.graph, loaded.warehouse, root=loaded.root, guard=LeaseGuard(self.catalog)
        )
        self.root = str(loaded.root)
        self.executor = DaskExecutor(workspace, 1, address=None, catalog=None)

    def job(self, key: str) -> UnitJob:
        moment = datetime.now(UTC)
        assert self.catalog.acquire_lease("numbers", key, self.run_id, moment, 30.0) is None
        return UnitJob(
            asset="numbers",
            partition=key,
            index=self.partitions.index(key),
            reads=(),
            run_id=self.run_id,
            previous_watermark=None,
            code_version="1",
            root=self.root,
        )

    def run_all(self, keys: list[str]) -> dict:
        pending, outcomes, in_flight = list(keys), {}, 0
        while pending or in_flight:
            while pending and self.executor.has_capacity(in_flight):
                key = pending.pop(0)
                self.executor.submit(("numbers", key), self.job(key))
                in_flight += 1
            (_, key), outcome = self.executor.next_done()
            in_flight -= 1
            outcomes.setdefault(key, []).append(outcome)
        return outcomes

    def calls(self) -> list[str]:
        path = self.project.root / "assets" / "calls.txt"
        return path.read_text().split() if path.exists() else []

    def close(self) -> None:
        self.executor.close()
        self.catalog.close()


@pytest.fixture
def run(project):
    project.write("assets/numbers.py", NUMBERS)
    run = _Run(project)
    try:
        yield run
    finally:
        run.close()


def test_a_worker_dying_mid_batch_costs_an_attempt_of_the_unit_that_began_only(run) -> None:
    # One worker: the first task runs days 1-4 in order, the next one waits behind it.
    (run.project.root / "assets" / "crash_day").write_text("3")

    outcomes = run.run_all(DAYS)

    assert all(len(found) == 1 for found in outcomes.values())
    [crashed] = outcomes["2024-01-03"]
    assert "the Dask worker running asset 'numbers' partition 2024-01-03 died" in crashed.error
    assert crashed.attempts == 1
    others = {key: found[0] for key, found in outcomes.items() if key != "2024-01-03"}
    assert {key: (o.error, o.attempts) for key, o in others.items()} == dict.fromkeys(
        others, (None, 1)
    )
    # Every unit ran exactly once: those after the crash in its batch, and those queued
    # behind it, were sent again without having begun.
    assert sorted(run.calls()) == DAYS
    assert not (run.project.warehouse / "numbers" / "date=2024-01-03").exists()


def test_a_batch_reports_each_unit_as_it_finishes(run) -> None:
    outcomes = run.run_all(DAYS)

    assert sorted(run.calls()) == DAYS
    assert {key: (found[0].error, found[0].rows) for key, found in outcomes.items()} == (
        dict.fromkeys(DAYS, (None, 1))
    )


def test_a_task_computed_again_runs_none_of_its_units(run, monkeypatch) -> None:
    # Dask computes a finished task again when its result died with its worker: the
    # task's key then already holds a claim. Claim the key before the task runs.
    client = run.executor._client
    key = f"partita-again-{os.getpid()}"
    assert client.run_on_scheduler(claim_start, key) is True
    monkeypatch.setattr(dask_executor, "batch_key", lambda items: key)

    outcomes = run.run_all(DAYS[:2])

    assert run.calls() == []  # the asset function never ran
    for key_, [outcome] in outcomes.items():
        assert "died before its result reached partita" in outcome.error, key_
        assert "2024-01-0" in outcome.error


def test_units_after_the_one_that_began_in_a_task_computed_again_run_once(run, monkeypatch) -> None:
    # The first task's key already holds a claim, as when Dask computes a task again
    # after a worker left with its result; the tasks after it get keys of their own.
    client = run.executor._client
    key = f"partita-again-{os.getpid()}-first"
    assert client.run_on_scheduler(claim_start, key) is True
    keys = iter([key])
    real_key = dask_executor.batch_key
    monkeypatch.setattr(dask_executor, "batch_key", lambda items: next(keys, real_key(items)))

    outcomes = run.run_all(DAYS[:3])

    assert all(len(found) == 1 for found in outcomes.values())
    first = outcomes["2024-01-01"][0]
    assert "died before its result reached partita" in first.error and first.attempts == 1
    later = {k: (found[0].error, found[0].rows) for k, found in outcomes.items() if k != DAYS[0]}
    assert later == {"2024-01-02": (None, 1), "2024-01-03": (None, 1)}
    assert sorted(run.calls()) == ["2024-01-02", "2024-01-03"]  # sent again, run once


def test_run_jobs_refuses_a_claimed_task_on_a_worker(run) -> None:
    client = run.executor._client
    job = run.job("2024-01-01")
    key = f"partita-claimed-{os.getpid()}"
    assert client.run_on_scheduler(claim_start, key) is True

    result = client.submit(run_jobs, [job], None, key=key, pure=False).result()

    assert result == RAN_BEFORE
    assert run.calls() == []


def test_a_cancelled_batch_runs_none_of_its_units_not_begun_and_publishes_nothing(run) -> None:
    # As when the coordinator is stopped or killed (the scheduler then releases its
    # tasks): its leases stay held, yet the worker must not go on writing for it.
    client = run.executor._client
    assets = run.project.root / "assets"
    hold = assets / "hold-1"
    hold.touch()
    jobs = [run.job(key) for key in DAYS[:3]]
    future = client.submit(run_jobs, jobs, None, key=f"partita-cancelled-{os.getpid()}")
    wait_for((assets / "began-1").exists, what="the first unit to begin")
    client.cancel([future], force=True)
    hold.unlink()

    key = future.key  # (a future sent to the worker would make its task wanted again)

    def on_worker(dask_worker) -> bool:
        return key in dask_worker.state.tasks

    wait_for(lambda: not any(client.run(on_worker).values()), what="the worker to drop it")
    assert run.calls() == ["2024-01-01"]  # the units after it never began
    assert not (run.project.warehouse / "numbers").exists()  # and it published nothing
