"""Run events: a recording listener hears the run, each unit and the full record."""

from __future__ import annotations

import logging

from partita.app.requests import RunRequest
from partita.execution.events import Listeners, RunListener

from . import DAYS, NOW

PIPELINE = """
import pathlib

import pandas as pd
from partita import DailyPartitions, PermanentError, asset

DAILY = DailyPartitions(start="2024-01-01")
HERE = pathlib.Path(__file__).parent


@asset(partitions=DAILY)
def raw(context):
    return pd.DataFrame({"day": [context.partition_key] * 3, "value": [1, 2, 3]})


@asset(partitions=DAILY)
def clean(context, raw):
    if context.partition_key == "2024-01-03":
        raise PermanentError("bad day")
    return raw[raw["value"] > 1].reset_index(drop=True)
"""


class Recorder(RunListener):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def run_started(self, run_id, plan) -> None:
        self.events.append(("run_started", run_id, plan.to_run_count))

    def unit_started(self, run_id, unit, reason) -> None:
        self.events.append(("unit_started", unit.asset, unit.partition, reason))

    def unit_finished(self, run_id, result, record) -> None:
        self.events.append(("unit_finished", result.asset, result.partition, result, record))

    def run_finished(self, report) -> None:
        self.events.append(("run_finished", report))


def finished(recorder: Recorder) -> dict:
    return {(e[1], e[2]): (e[3], e[4]) for e in recorder.events if e[0] == "unit_finished"}


def test_a_listener_hears_the_run_each_unit_and_its_full_record(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    recorder = Recorder()
    with project.load().session() as session:
        report = session.run(RunRequest(now=NOW), [recorder])
    run_id = report.run_id
    assert recorder.events[0] == ("run_started", run_id, 6)
    assert recorder.events[-1] == ("run_finished", report)
    started = [(e[1], e[2]) for e in recorder.events if e[0] == "unit_started"]
    assert sorted(started) == sorted((a, d) for a in ("raw", "clean") for d in DAYS)
    # A unit starts before it finishes; an upstream unit finishes before its reader starts.
    position = {e[:3]: i for i, e in enumerate(recorder.events) if e[0].startswith("unit")}
    for day in DAYS:
        assert position[("unit_started", "raw", day)] < position[("unit_finished", "raw", day)]
        assert position[("unit_finished", "raw", day)] < position[("unit_started", "clean", day)]

    units = finished(recorder)
    assert [units[(r.asset, r.partition)][0] for r in report.results] == list(report.results)
    record = units[("clean", "2024-01-01")][1]
    assert (record.status, record.run_id, record.rows, record.attempts) == (
        "materialized",
        run_id,
        2,
        1,
    )
    assert record.bytes > 0 and record.data_version
    raw_record = units[("raw", "2024-01-01")][1]
    assert [(i.asset, i.partition, i.data_version) for i in record.inputs] == [
        ("raw", "2024-01-01", raw_record.data_version)
    ]
    failed_result, failed_record = units[("clean", "2024-01-03")]
    assert failed_result.status == "failed"
    assert failed_record.status == "failed" and "bad day" in failed_record.error


def test_units_that_were_not_attempted_have_no_record(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    loaded = project.load()
    loaded.materialize("raw", now=NOW)
    recorder = Recorder()
    with loaded.session() as session:
        session.run(RunRequest(selection=("raw",), now=NOW), [recorder])
    assert {key: (r.status, record) for key, (r, record) in finished(recorder).items()} == {
        ("raw", day): ("up_to_date", None) for day in DAYS
    }
    assert [e[0] for e in recorder.events] == [
        "run_started",
        *["unit_finished"] * 3,
        "run_finished",
    ]


def test_a_failing_listener_is_logged_and_does_not_stop_the_run(project, caplog) -> None:
    class Broken(RunListener):
        def unit_finished(self, run_id, result, record) -> None:
            raise RuntimeError("listener bug")

    project.write("assets/pipeline.py", PIPELINE)
    recorder = Recorder()
    with caplog.at_level(logging.ERROR, logger="partita"), project.load().session() as session:
        report = session.run(RunRequest(selection=("raw",), now=NOW), [Broken(), recorder])
    assert [r.status for r in report.results] == ["materialized"] * 3
    assert len(finished(recorder)) == 3  # the next listener still heard every unit
    assert "run listener Broken failed on unit_finished" in caplog.text


def test_the_old_callbacks_still_work_through_a_listener(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    plans, done = [], []
    project.load().materialize(
        "raw", now=NOW, on_plan=plans.append, on_unit_done=lambda r: done.append(r.partition)
    )
    assert [plan.to_run_count for plan in plans] == [3]
    assert done == DAYS


def test_listeners_fan_out_in_order() -> None:
    heard: list[str] = []

    class Named(RunListener):
        def __init__(self, name: str) -> None:
            self.name = name

        def run_finished(self, report) -> None:
            heard.append(self.name)

    Listeners([Named("a"), Named("b")]).run_finished(None)
    assert heard == ["a", "b"]
