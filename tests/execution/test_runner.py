"""The runner in-process: unit outcomes, failures and skips, staleness after changes,
early cutoff, re-runs, --force and the run history."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from . import DAYS, NOW, by_unit, statuses

PIPELINE = """
import pathlib

import pandas as pd
from partita import DailyPartitions, asset

DAILY = DailyPartitions(start="2024-01-01")
HERE = pathlib.Path(__file__).parent


@asset(partitions=DAILY)
def raw(context):
    scale = int((HERE / "scale.txt").read_text()) if (HERE / "scale.txt").exists() else 1
    day = int(context.partition_key[-2:])
    return pd.DataFrame({"day": [day] * 3, "value": [scale * i for i in (1, 2, 3)]})


@asset(partitions=DAILY)
def clean(raw):
    if (HERE / "broken.txt").exists():
        raise ValueError("clean is broken")
    return raw[raw["value"] > 1].reset_index(drop=True)


@asset(partitions=DAILY)
def summary(clean):
    return pd.DataFrame({"total": [int(clean["value"].sum())]})


@asset(partitions=DAILY)
def other():
    return pd.DataFrame({"x": [1, 2]})
"""


def test_a_first_run_materializes_every_partition_in_order(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    report = project.load().materialize(now=NOW)
    assert report.status == "succeeded"
    assert not report.failed
    assert [(r.asset, r.partition) for r in report.results] == [
        (asset, day) for asset in ("other", "raw", "clean", "summary") for day in DAYS
    ]
    assert all(r.status == "materialized" and r.reason == "missing" for r in report.results)
    assert all(r.attempts == 1 and r.error is None for r in report.results)
    rows = {(r.asset, r.partition): r.rows for r in report.results}
    assert rows[("raw", "2024-01-02")] == 3
    assert rows[("clean", "2024-01-02")] == 2
    assert rows[("summary", "2024-01-02")] == 1
    assert report.counts() == {"materialized": 12, "up_to_date": 0, "failed": 0, "skipped": 0}
    assert project.load().read("summary", "2024-01-03")["total"].tolist() == [5]


def test_a_second_run_finds_everything_up_to_date(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    project.load().materialize(now=NOW)
    loaded = project.load()
    assert loaded.plan(now=NOW).to_run == []
    report = loaded.materialize(now=NOW)
    assert set(statuses(report).values()) == {"up_to_date"}
    assert report.status == "succeeded"


def test_a_failure_skips_downstream_while_an_independent_branch_succeeds(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    (project.root / "assets" / "broken.txt").write_text("yes")
    report = project.load().materialize(now=NOW)
    results = by_unit(report)
    assert report.failed
    assert report.status == "failed"
    for day in DAYS:
        assert results[("raw", day)].status == "materialized"
        assert results[("other", day)].status == "materialized"
        failed = results[("clean", day)]
        assert failed.status == "failed"
        assert failed.error == f"asset 'clean' partition {day} failed: ValueError: clean is broken"
        assert failed.attempts == 1
        skipped = results[("summary", day)]
        assert skipped.status == "skipped"
        assert skipped.reason == f"upstream failed: clean {day}"
        assert skipped.attempts == 0
    assert report.counts() == {"materialized": 6, "up_to_date": 0, "failed": 3, "skipped": 3}
    assert not (project.warehouse / "summary").exists()
    runs = project.load().runs()
    assert runs[0].run_id == report.run_id
    assert runs[0].status == "failed"
    assert runs[0].counts == report.counts()


def test_a_rerun_after_a_failure_does_only_what_remains(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    broken = project.root / "assets" / "broken.txt"
    broken.write_text("yes")
    project.load().materialize(now=NOW)
    status = {s.asset: s for s in project.load().status(now=NOW)}
    needs_work = {(s.asset, p.partition): p.state for s in status.values() for p in s.partitions}
    assert needs_work[("clean", "2024-01-01")] == "failed"
    assert needs_work[("summary", "2024-01-01")] == "missing"
    assert ("raw", "2024-01-01") not in needs_work
    assert status["raw"].count("fresh") == len(DAYS)

    broken.unlink()
    plan = project.load().plan(now=NOW)
    assert {(u.asset, u.partition): str(u.reason) for u in plan.to_run} == {
        **{("clean", day): "failed last time" for day in DAYS},
        **{("summary", day): "missing" for day in DAYS},
    }
    report = project.load().materialize(now=NOW)
    done = {unit for unit, status in statuses(report).items() if status == "materialized"}
    assert done == {(asset, day) for asset in ("clean", "summary") for day in DAYS}
    assert {r.status for r in report.results if r.asset in ("raw", "other")} == {"up_to_date"}
    assert project.load().plan(now=NOW).to_run == []


def test_a_failed_rebuild_keeps_the_published_data(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    project.load().materialize(now=NOW)
    (project.root / "assets" / "broken.txt").write_text("yes")
    report = project.load().materialize("clean", "2024-01-02", force=True, now=NOW)
    assert statuses(report) == {("clean", "2024-01-02"): "failed"}
    loaded = project.load()
    assert loaded.read("clean", "2024-01-02")["value"].tolist() == [2, 3]
    plan = loaded.plan(now=NOW)
    assert {(u.asset, u.partition): str(u.reason) for u in plan.to_run} == {
        ("clean", "2024-01-02"): "failed last time",
        ("summary", "2024-01-02"): "upstream stale: clean 2024-01-02",
    }


def test_an_upstream_change_makes_exactly_its_readers_stale(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    project.load().materialize(now=NOW)
    (project.root / "assets" / "scale.txt").write_text("10")
    project.load().materialize("raw", "2024-01-02", force=True, now=NOW)
    plan = project.load().plan(now=NOW)
    assert {(u.asset, u.partition): str(u.reason) for u in plan.to_run} == {
        ("clean", "2024-01-02"): "upstream changed: raw 2024-01-02",
        ("summary", "2024-01-02"): "upstream stale: clean 2024-01-02",
    }
    report = project.load().materialize(now=NOW)
    done = {unit for unit, status in statuses(report).items() if status == "materialized"}
    assert done == {("clean", "2024-01-02"), ("summary", "2024-01-02")}
    assert project.load().read("summary", "2024-01-02")["total"].tolist() == [60]


def test_an_identical_rebuild_leaves_downstream_up_to_date(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    project.load().materialize(now=NOW)
    forced = project.load().materialize("raw", force=True, now=NOW)
    assert {r.status for r in forced.results} == {"materialized"}
    assert {r.reason for r in forced.results} == {"forced"}
    assert project.load().plan(now=NOW).to_run == []


def test_early_cutoff_a_code_change_producing_the_same_data(project) -> None:
    path = project.write("assets/pipeline.py", PIPELINE)
    project.load().materialize(now=NOW)
    # clean's code changes, its output does not: summary is planned, then cut off
    path.write_text(
        path.read_text().replace(
            'return raw[raw["value"] > 1].reset_index(drop=True)',
            'return raw[raw["value"] >= 2].reset_index(drop=True)',
        )
    )
    plan = project.load().plan(now=NOW)
    assert {(u.asset, u.partition): str(u.reason) for u in plan.to_run} == {
        **{("clean", day): "code changed" for day in DAYS},
        **{("summary", day): f"upstream stale: clean {day}" for day in DAYS},
    }
    report = project.load().materialize(now=NOW)
    results = by_unit(report)
    for day in DAYS:
        assert results[("clean", day)].status == "materialized"
        assert results[("summary", day)].status == "up_to_date"
    assert project.load().plan(now=NOW).to_run == []
    history = project.load().runs()
    assert history[0].counts["materialized"] == 3


def test_a_code_change_makes_the_asset_stale(project) -> None:
    path = project.write("assets/pipeline.py", PIPELINE)
    project.load().materialize(now=NOW)
    path.write_text(path.read_text().replace('"x": [1, 2]', '"x": [1, 2, 3]'))
    plan = project.load().plan(now=NOW)
    assert {(u.asset, u.partition): str(u.reason) for u in plan.to_run} == {
        ("other", day): "code changed" for day in DAYS
    }


def test_a_comment_or_format_edit_is_not_a_code_change(project) -> None:
    path = project.write("assets/pipeline.py", PIPELINE)
    project.load().materialize(now=NOW)
    edited = path.read_text().replace(
        'def other():\n    return pd.DataFrame({"x": [1, 2]})',
        'def other():\n    """Docs."""\n    # a comment\n    return pd.DataFrame(\n'
        '        {"x": [1, 2]},  # trailing\n    )',
    )
    assert edited != path.read_text()
    path.write_text(edited)
    assert project.load().plan(now=NOW).to_run == []


def test_an_explicit_code_version_overrides_the_source_hash(project) -> None:
    source = """
        import pandas as pd
        from partita import asset

        @asset(code_version="1")
        def pinned():
            return pd.DataFrame({"x": [1]})
    """
    path = project.write("assets/pinned.py", source)
    project.load().materialize(now=NOW)
    path.write_text(path.read_text().replace('"x": [1]', '"x": [2]'))
    assert project.load().plan(now=NOW).to_run == []  # the source changed, the version did not
    path.write_text(path.read_text().replace('code_version="1"', 'code_version="2"'))
    assert [str(u.reason) for u in project.load().plan(now=NOW).to_run] == ["code changed"]


def test_force_rebuilds_every_targeted_unit(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    project.load().materialize(now=NOW)
    report = project.load().materialize(
        ["clean"], ("2024-01-02", "2024-01-03"), force=True, now=NOW
    )
    assert [(r.asset, r.partition, r.status, r.reason) for r in report.results] == [
        ("clean", "2024-01-02", "materialized", "forced"),
        ("clean", "2024-01-03", "materialized", "forced"),
    ]


def test_every_run_and_attempt_is_recorded(project) -> None:
    project.write("assets/pipeline.py", PIPELINE)
    first = project.load().materialize(now=NOW)
    second = project.load().materialize("other", force=True, now=NOW, command="again")
    runs = project.load().runs()
    assert [r.run_id for r in runs] == [second.run_id, first.run_id]
    assert runs[0].command == "again"
    assert runs[0].status == "succeeded"
    assert runs[0].counts == {"materialized": 3, "up_to_date": 0, "failed": 0, "skipped": 0}
    assert runs[1].finished is not None
    assert [r.run_id for r in project.load().runs(limit=1)] == [second.run_id]
    from partita.catalog import open_catalog

    with open_catalog(project.warehouse) as catalog:
        attempts = catalog.history("other", "2024-01-01")
    assert [a.run_id for a in attempts] == [second.run_id, first.run_id]
    assert all(a.status == "materialized" for a in attempts)
    assert attempts[0].data_version == attempts[1].data_version


def test_a_window_before_the_first_partition_receives_an_empty_frame(project) -> None:
    project.write(
        "assets/window.py",
        """
        import pandas as pd
        from partita import AssetDep, DailyPartitions, asset

        DAILY = DailyPartitions(start="2024-01-01")

        @asset(partitions=DAILY)
        def events(context):
            return pd.DataFrame({"day": [context.partition_key] * 2})

        @asset(partitions=DAILY, deps=[AssetDep("events", offset=(-6, 0))])
        def week(events):
            return pd.DataFrame({"rows": [len(events)], "days": [events["day"].nunique()]})

        @asset(partitions=DAILY, deps=[AssetDep("events", offset=(-1, -1))])
        def previous(events):
            return pd.DataFrame({"rows": [len(events)]})
        """,
    )
    now = datetime(2024, 1, 10, tzinfo=ZoneInfo("UTC"))
    report = project.load().materialize(now=now)
    assert not report.failed, [r.error for r in report.results if r.error]
    loaded = project.load()
    assert loaded.read("week", "2024-01-03").to_dict("list") == {"rows": [6], "days": [3]}
    assert loaded.read("week", "2024-01-09").to_dict("list") == {"rows": [14], "days": [7]}
    assert loaded.read("previous", "2024-01-01")["rows"].tolist() == [0]
    assert loaded.read("previous", "2024-01-05")["rows"].tolist() == [2]


WINDOWED = """
import pandas as pd
from partita import AssetDep, DailyPartitions, asset

DAILY = DailyPartitions(start="2024-01-01")


@asset(partitions=DAILY)
def raw(context):
    return pd.DataFrame({"day": [context.partition_key]})


@asset(partitions=DAILY, deps=[AssetDep("raw", offset=OFFSET)])
def window(raw):
    return pd.DataFrame({"days": [len(raw)]})
"""


def test_widening_a_window_makes_its_readers_stale_though_the_source_is_the_same(
    project,
) -> None:
    """The source hash leaves decorators out: what a unit reads is compared on its own."""
    project.write("assets/pipeline.py", WINDOWED.replace("OFFSET", "(0, 0)"))
    project.load().materialize(now=NOW)
    project.write("assets/pipeline.py", WINDOWED.replace("OFFSET", "(-2, 0)"))
    plan = project.load().plan(now=NOW)
    assert {(u.asset, u.partition): str(u.reason) for u in plan.to_run} == {
        ("window", day): "dependencies changed" for day in DAYS
    }
    project.load().materialize(now=NOW)
    assert project.load().read("window")["days"].tolist() == [1, 2, 3]
    assert project.load().plan(now=NOW).to_run == []
