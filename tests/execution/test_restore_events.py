"""Restores tell their run's listeners what a materialization tells them (run and unit
started and finished, with each attempt's record), and a failed restore is recorded as
a failed attempt of its partition."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from partita.app.requests import PlanRequest, RunRequest
from partita.app.session import open_session
from partita.app.undo import rollback_targets, run_restores
from partita.catalog.records import AttemptStatus
from partita.execution.events import RunListener
from partita.execution.restore import execute_restores

NOW = datetime(2024, 1, 3, tzinfo=UTC)
DAYS = ["2024-01-01", "2024-01-02"]
ASSETS = """
import pathlib

import pyarrow as pa
from partita import DailyPartitions, asset

ROOT = pathlib.Path(__file__).parent.parent


@asset(partitions=DailyPartitions(start="2024-01-01"))
def sales(context):
    generation = int((ROOT / "generation.txt").read_text())
    return pa.table({"day": [context.partition_key], "generation": [generation]})
"""


class Recorder(RunListener):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def run_started(self, run_id, plan) -> None:
        units = [(u.asset, u.partition, str(u.reason)) for u in plan.units]
        self.events.append(("run_started", run_id, units))

    def unit_started(self, run_id, unit, reason) -> None:
        self.events.append(("unit_started", unit.asset, unit.partition, reason))

    def unit_finished(self, run_id, result, record) -> None:
        self.events.append(("unit_finished", result.partition, result.status, record))

    def run_finished(self, report) -> None:
        self.events.append(("run_finished", report.run_id, report.status, report.counts()))


@pytest.fixture
def session(project):
    project.write("assets/sales.py", ASSETS)
    opened = open_session(project.root)
    for generation in (1, 2):  # the second run replaces both days
        (project.root / "generation.txt").write_text(str(generation))
        opened.run(RunRequest(selection=("sales",), now=NOW, force=True, command="test"))
    yield opened
    opened.close()


def bad_run(session) -> str:
    return session.catalog.history("sales")[0].run_id


def test_a_rollback_tells_the_listener_every_event_with_the_records(session) -> None:
    targets = rollback_targets(session, bad_run(session))
    recorder = Recorder()
    report = run_restores(session, targets, "rollback", listeners=[recorder])

    assert report.status == "succeeded"
    started, *units, finished = recorder.events
    assert started == ("run_started", report.run_id, [("sales", d, "forced") for d in DAYS])
    reasons = {t.partition: f"restore {t.data_version} (of run {t.source.run_id})" for t in targets}
    assert [e[:4] for e in units if e[0] == "unit_started"] == [
        ("unit_started", "sales", t.partition, reasons[t.partition]) for t in targets
    ]
    done = [e for e in units if e[0] == "unit_finished"]
    assert [(e[1], e[2]) for e in done] == [(t.partition, "materialized") for t in targets]
    for event, target in zip(done, targets, strict=True):
        record = event[3]
        assert record.restored and record.run_id == report.run_id
        assert record.data_version == target.data_version
    assert finished[:3] == ("run_finished", report.run_id, "succeeded")
    assert finished[3]["materialized"] == 2
    run = session.catalog.get_run(report.run_id)
    assert run.status == "succeeded"


def test_a_failed_restore_is_a_failed_attempt_of_its_partition(session) -> None:
    targets = rollback_targets(session, bad_run(session))
    storage = session.storage("sales")
    lost = targets[0]
    assert storage.discard_version(lost.partition, lost.data_version) > 0  # forced failure
    recorder = Recorder()
    report = execute_restores(
        session.graph, session.warehouse, session.catalog, targets, listener=recorder
    )

    assert report.status == "failed"
    assert [r.status for r in report.results] == ["failed", "restored"]
    attempt = session.catalog.history("sales", lost.partition)[0]
    assert attempt.run_id == report.run_id and attempt.status == AttemptStatus.FAILED
    assert "not kept" in attempt.error
    finished = [e for e in recorder.events if e[0] == "unit_finished"]
    assert finished[0][1:3] == (lost.partition, "failed")
    heard = finished[0][3]
    assert (heard.run_id, heard.status, heard.error) == (
        attempt.run_id,
        attempt.status,
        attempt.error,
    )
    assert finished[1][1:3] == (targets[1].partition, "materialized")
    assert recorder.events[-1][2] == "failed" and recorder.events[-1][3]["failed"] == 1
    state = session.catalog.state("sales", lost.partition)
    assert state.data_version != lost.data_version  # the data it could not restore stays
    plan = session.plan(PlanRequest(selection=("sales",), now=NOW))
    assert [(u.partition, str(u.reason)) for u in plan.to_run] == [
        (lost.partition, "failed last time")
    ]


def test_an_interrupted_restore_records_an_interrupted_attempt(session, monkeypatch) -> None:
    targets = rollback_targets(session, bad_run(session))
    storage = session.storage("sales")
    before = {t.partition: session.catalog.state("sales", t.partition) for t in targets}

    def interrupted_restore(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(storage), "restore", interrupted_restore)
    recorder = Recorder()
    with pytest.raises(KeyboardInterrupt):
        execute_restores(
            session.graph, session.warehouse, session.catalog, targets, listener=recorder
        )

    run_id = recorder.events[0][1]
    attempt = session.catalog.history("sales", targets[0].partition)[0]
    assert (attempt.run_id, attempt.status) == (run_id, AttemptStatus.INTERRUPTED)
    assert attempt.error == "interrupted (Ctrl-C)" and attempt.data_version is None
    assert session.catalog.history("sales", targets[1].partition)[0].run_id != run_id
    after = {t.partition: session.catalog.state("sales", t.partition) for t in targets}
    assert {p: s.data_version for p, s in after.items()} == {
        p: s.data_version for p, s in before.items()
    }
    assert session.catalog.get_run(run_id).status == "interrupted"
    assert recorder.events[-1][:3] == ("run_finished", run_id, "interrupted")
    plan = session.plan(PlanRequest(selection=("sales",), now=NOW))
    assert [(u.partition, str(u.reason)) for u in plan.to_run] == [
        (targets[0].partition, "failed last time")
    ]


def test_a_restore_interrupted_after_publishing_is_recorded_as_restored(
    session, monkeypatch
) -> None:
    """Ctrl-C between the storage's publish and the catalog's record: the catalog still
    learns the restored version before the run ends, so nothing rebuilds it."""
    import partita.execution.restore as restore_module

    targets = rollback_targets(session, bad_run(session))

    def interrupt_at(point: str) -> None:
        if point == "restore-before-catalog-commit":
            raise KeyboardInterrupt

    monkeypatch.setattr(restore_module, "fault_point", interrupt_at)
    with pytest.raises(KeyboardInterrupt):
        execute_restores(session.graph, session.warehouse, session.catalog, targets)

    first = targets[0]
    state = session.catalog.state("sales", first.partition)
    assert state.data_version == first.data_version
    stored = session.storage("sales").read([first.partition])
    assert stored.column("generation").to_pylist() == [1]
    attempt = session.catalog.history("sales", first.partition)[0]
    assert attempt.restored and attempt.status == AttemptStatus.MATERIALIZED
    plan = session.plan(PlanRequest(selection=("sales",), now=NOW))
    assert first.partition not in [u.partition for u in plan.to_run]
