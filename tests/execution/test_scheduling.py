"""The scheduler in-process: oldest- and newest-first order, the circuit breaker,
--retry-failed, worker processes (same bytes as one worker, upstream before downstream)
and incremental assets upserted on a watermark."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from . import by_unit, statuses

# Daily partitions from 2024-01-01: at NOW, 2024-01-01 .. 2024-01-06 are complete.
NOW = datetime(2024, 1, 7, tzinfo=UTC)
DAYS = [f"2024-01-0{d}" for d in range(1, 7)]

ORDERED = """
import pathlib

import pandas as pd
from partita import DailyPartitions, asset

HERE = pathlib.Path(__file__).parent


@asset(partitions=DailyPartitions(start="2024-01-01"))
def events(context):
    with open(HERE / "order.log", "a") as log:
        log.write(context.partition_key + "\\n")
    if context.partition_key in (HERE / "bad.txt").read_text().split():
        raise RuntimeError("bad day " + context.partition_key)
    return pd.DataFrame({"day": [context.partition_key], "n": [1]})


@asset(partitions=DailyPartitions(start="2024-01-01"))
def tally(events):
    return pd.DataFrame({"n": [int(events["n"].sum())]})
"""


@pytest.fixture
def ordered(project):
    project.write("assets/ordered.py", ORDERED)
    (project.root / "assets" / "bad.txt").write_text("")
    return project


def ran(project) -> list[str]:
    log = project.root / "assets" / "order.log"
    keys = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return keys


def test_oldest_first_runs_partitions_in_ascending_order(ordered) -> None:
    report = ordered.load().materialize("events", now=NOW, order="oldest-first")
    assert ran(ordered) == DAYS
    assert set(statuses(report).values()) == {"materialized"}


def test_newest_first_runs_partitions_in_descending_order(ordered) -> None:
    report = ordered.load().materialize("events", now=NOW, order="newest-first")
    assert ran(ordered) == DAYS[::-1]
    assert set(statuses(report).values()) == {"materialized"}
    # The report still lists the units in plan order.
    assert [r.partition for r in report.results] == DAYS


def test_newest_first_with_a_downstream_asset_still_runs_upstream_first(ordered) -> None:
    order: list[tuple[str, str | None]] = []
    report = ordered.load().materialize(
        now=NOW, order="newest-first", on_unit_done=lambda r: order.append((r.asset, r.partition))
    )
    assert ran(ordered) == DAYS[::-1]
    assert set(statuses(report).values()) == {"materialized"}
    for day in DAYS:
        assert order.index(("events", day)) < order.index(("tally", day))
    # Newest first: the latest day's tally is done before the oldest day's events start.
    assert order.index(("tally", DAYS[-1])) < order.index(("events", DAYS[0]))


def test_an_unknown_order_is_a_usage_error(ordered) -> None:
    from partita.errors import UsageError

    with pytest.raises(UsageError, match="newest-first"):
        ordered.load().materialize(now=NOW, order="random")


def test_the_circuit_breaker_stops_starting_units_after_max_failures(ordered) -> None:
    (ordered.root / "assets" / "bad.txt").write_text(" ".join(DAYS))
    report = ordered.load().materialize("events", now=NOW, max_failures=2)
    results = by_unit(report)
    assert ran(ordered) == DAYS[:2]  # nothing started after the second failure
    failed = [day for day in DAYS if results[("events", day)].status == "failed"]
    skipped = [day for day in DAYS if results[("events", day)].status == "skipped"]
    assert failed == DAYS[:2]
    assert skipped == DAYS[2:]
    for day in skipped:
        assert "max-failures" in results[("events", day)].reason
        assert results[("events", day)].attempts == 0
    assert report.counts() == {"materialized": 0, "up_to_date": 0, "failed": 2, "skipped": 4}
    assert report.status == "failed"
    # Skipped units were never attempted: the next run sees them as missing, not failed.
    plan = {u.partition: str(u.reason) for u in ordered.load().plan("events", now=NOW).to_run}
    assert plan == {
        **dict.fromkeys(DAYS[:2], "failed last time"),
        **dict.fromkeys(DAYS[2:], "missing"),
    }


def test_the_circuit_breaker_counts_only_failures(ordered) -> None:
    (ordered.root / "assets" / "bad.txt").write_text("2024-01-02 2024-01-05")
    report = ordered.load().materialize("events", now=NOW, max_failures=2)
    assert ran(ordered) == DAYS[:5]
    assert [r.status for r in report.results] == [
        "materialized",
        "failed",
        "materialized",
        "materialized",
        "failed",
        "skipped",
    ]


def test_without_a_breaker_every_unit_is_attempted(ordered) -> None:
    (ordered.root / "assets" / "bad.txt").write_text(" ".join(DAYS))
    report = ordered.load().materialize("events", now=NOW)
    assert ran(ordered) == DAYS
    assert report.counts()["failed"] == 6


def test_retry_failed_reruns_only_the_units_whose_last_attempt_failed(ordered) -> None:
    bad = ordered.root / "assets" / "bad.txt"
    bad.write_text("2024-01-02 2024-01-04")
    first = ordered.load().materialize(now=NOW)
    assert statuses(first)[("tally", "2024-01-02")] == "skipped"
    ran(ordered)

    bad.write_text("")
    later = datetime(2024, 1, 9, tzinfo=UTC)  # 2024-01-07 and -08 are new and missing
    report = ordered.load().materialize(now=later, retry_failed=True)
    assert ran(ordered) == ["2024-01-02", "2024-01-04"]
    assert {(r.asset, r.partition): r.status for r in report.results} == {
        ("events", "2024-01-02"): "materialized",
        ("events", "2024-01-04"): "materialized",
    }
    assert {r.reason for r in report.results} == {"failed last time"}
    # The downstream units skipped before, and the new days, are left for a normal run.
    remaining = ordered.load().plan(now=later).to_run
    assert {(u.asset, u.partition) for u in remaining} == {
        ("events", "2024-01-07"),
        ("events", "2024-01-08"),
        ("tally", "2024-01-02"),
        ("tally", "2024-01-04"),
        ("tally", "2024-01-07"),
        ("tally", "2024-01-08"),
    }
    again = ordered.load().materialize(now=later, retry_failed=True)
    assert again.results == ()
    assert ran(ordered) == []


PIPELINE = """
import os
import pathlib

import numpy as np
import pandas as pd
from partita import AssetDep, DailyPartitions, DuckDB, MonthlyPartitions, asset

DAILY = DailyPartitions(start="2024-01-01")
HERE = pathlib.Path(__file__).parent


def note(text):
    with open(HERE / "events.log", "a") as log:
        log.write(text + "\\n")


@asset(partitions=DAILY)
def raw(context):
    note("start raw " + context.partition_key)
    rng = np.random.default_rng(int(context.partition_key.replace("-", "")))
    frame = pd.DataFrame(
        {
            "carrier": rng.choice(["AA", "DL", "UA"], size=50),
            "delay": rng.normal(10.0, 5.0, size=50),
            "day": context.partition_key,
        }
    )
    note("end raw " + context.partition_key)
    return frame


@asset(partitions=DAILY, deps=[AssetDep("raw", offset=(-2, 0))])
def rolling(raw, context):
    note("start rolling " + context.partition_key + " pid " + str(os.getpid()))
    by_carrier = raw.groupby("carrier", as_index=False)
    out = by_carrier.agg(delay=("delay", "mean"), days=("day", "nunique"))
    note("end rolling " + context.partition_key)
    return out


@asset(partitions=DAILY, storage=DuckDB(table="daily_delays"))
def daily_delays(raw, context):
    note("start daily_delays " + context.partition_key)
    by_carrier = raw.groupby("carrier", as_index=False)
    out = by_carrier.agg(flights=("delay", "size"), delay=("delay", "mean"))
    return out.sort_values("carrier").reset_index(drop=True)


@asset(partitions=DAILY)
def weather(context):
    day = int(context.partition_key[-2:])
    return pd.DataFrame({"temp": [float(day)], "wind": [day * 1.5]})


@asset(partitions=MonthlyPartitions(start="2024-01-01"))
def monthly(rolling):
    return rolling.groupby("carrier", as_index=False).agg(delay=("delay", "max"))
"""

FEB_1 = datetime(2024, 2, 1, tzinfo=UTC)  # January (31 days) and its month are complete


def materialized(project, workers: int):
    project.write("assets/pipeline.py", PIPELINE)
    report = project.load().materialize(now=FEB_1, workers=workers)
    assert report.status == "succeeded", [r.error for r in report.results if r.error]
    return report


def parquet_files(warehouse: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(warehouse)): path.read_bytes()
        for path in sorted(warehouse.rglob("*.parquet"))
    }


def duckdb_rows(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as connection:
        return connection.sql("SELECT * FROM daily_delays ORDER BY ALL").fetchall()


def test_two_workers_write_exactly_what_one_worker_writes(tmp_path) -> None:
    from conftest import TempProject

    projects = []
    for name in ("one", "two"):
        root = tmp_path / name
        (root / "assets").mkdir(parents=True)
        (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')
        projects.append(TempProject(root))
    one, two = projects
    sequential = materialized(one, workers=1)
    parallel = materialized(two, workers=2)

    assert statuses(parallel) == statuses(sequential)
    assert set(statuses(parallel).values()) == {"materialized"}
    assert len(parallel.results) == 31 * 4 + 1
    assert [(r.asset, r.partition, r.rows) for r in parallel.results] == [
        (r.asset, r.partition, r.rows) for r in sequential.results
    ]
    files = parquet_files(two.warehouse)
    assert len(files) == 31 * 3 + 1
    assert files == parquet_files(one.warehouse)
    rows = duckdb_rows(two.warehouse)
    assert len(rows) == 31 * 3
    assert rows == duckdb_rows(one.warehouse)
    versions = {
        (asset, key): s.data_version
        for asset, by_key in two.load().states().items()
        for key, s in by_key.items()
    }
    assert versions == {
        (asset, key): s.data_version
        for asset, by_key in one.load().states().items()
        for key, s in by_key.items()
    }
    # The worker processes did the work: the rolling units did not all run in this process.
    log = (two.root / "assets" / "events.log").read_text().splitlines()
    pids = {line.split(" pid ")[1] for line in log if line.startswith("start rolling")}
    assert str(__import__("os").getpid()) not in pids


def test_with_two_workers_a_unit_starts_only_after_the_units_it_reads_are_done(project) -> None:
    report = materialized(project, workers=2)
    log = (project.root / "assets" / "events.log").read_text().splitlines()
    position = {line.split(" pid ")[0]: i for i, line in enumerate(log)}
    assert len(log) == len(position)  # every unit ran exactly once
    for index in range(31):
        key = f"2024-01-{index + 1:02d}"
        window = [f"2024-01-{d + 1:02d}" for d in range(max(0, index - 2), index + 1)]
        for upstream in window:
            assert position[f"end raw {upstream}"] < position[f"start rolling {key}"]
        assert position[f"end raw {key}"] < position[f"start daily_delays {key}"]
    # Each rolling partition saw every day of its window.
    rolling = project.load().read("rolling", ("2024-01-03", "2024-01-31"))
    assert set(rolling["days"]) == {3}
    results = by_unit(report)
    assert results[("monthly", "2024-01")].status == "materialized"


INCREMENTAL = """
import pathlib

import pandas as pd
from partita import DuckDB, asset

HERE = pathlib.Path(__file__).parent


@asset(watermark="updated_at", storage=DuckDB(table="customers", merge_on=["id"]))
def customers(context):
    with open(HERE / "watermarks.log", "a") as log:
        log.write(repr(context.watermark) + "\\n")
    source = pd.read_csv(HERE / "source.csv")
    source["updated_at"] = pd.to_datetime(source["updated_at"], utc=True)
    if context.watermark is not None:
        source = source[source["updated_at"] > context.watermark]
    return source.reset_index(drop=True)
"""


def customer_rows(project) -> list[tuple]:
    with duckdb.connect(str(project.warehouse / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(
            "SELECT id, name, strftime(updated_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') "
            "FROM customers ORDER BY id"
        ).fetchall()


def test_an_incremental_asset_upserts_only_rows_newer_than_its_watermark(project) -> None:
    project.write("assets/customers.py", INCREMENTAL)
    source = project.root / "assets" / "source.csv"
    watermarks = project.root / "assets" / "watermarks.log"
    source.write_text(
        "id,name,updated_at\n"
        "1,ann,2024-01-01T08:00:00Z\n"
        "2,bob,2024-01-01T09:00:00Z\n"
        "3,cid,2024-01-02T10:00:00Z\n"
    )
    first = project.load().materialize(now=NOW)
    assert [(r.status, r.rows) for r in first.results] == [("materialized", 3)]
    assert watermarks.read_text().splitlines() == ["None"]
    assert customer_rows(project) == [
        (1, "ann", "2024-01-01 08:00"),
        (2, "bob", "2024-01-01 09:00"),
        (3, "cid", "2024-01-02 10:00"),
    ]
    state = project.load().states()["customers"][None]
    assert state.watermark == "2024-01-02T10:00:00+00:00"
    version = state.data_version

    # Nothing new in the source: a forced run receives the mark and adds nothing.
    second = project.load().materialize(now=NOW, force=True)
    assert [(r.status, r.rows) for r in second.results] == [("materialized", 0)]
    assert watermarks.read_text().splitlines()[1] == repr(datetime(2024, 1, 2, 10, tzinfo=UTC))
    assert len(customer_rows(project)) == 3
    state = project.load().states()["customers"][None]
    assert state.data_version == version
    assert state.watermark == "2024-01-02T10:00:00+00:00"

    # Late updates to existing ids and one new id: updated in place, no duplicates.
    source.write_text(
        source.read_text() + "2,bobby,2024-01-03T07:00:00Z\n"
        "3,cyd,2024-01-03T08:00:00Z\n"
        "4,dee,2024-01-03T09:00:00Z\n"
    )
    third = project.load().materialize(now=NOW, force=True)
    assert [(r.status, r.rows) for r in third.results] == [("materialized", 3)]
    assert watermarks.read_text().splitlines()[2] == repr(datetime(2024, 1, 2, 10, tzinfo=UTC))
    assert customer_rows(project) == [
        (1, "ann", "2024-01-01 08:00"),
        (2, "bobby", "2024-01-03 07:00"),
        (3, "cyd", "2024-01-03 08:00"),
        (4, "dee", "2024-01-03 09:00"),
    ]
    state = project.load().states()["customers"][None]
    assert state.watermark == "2024-01-03T09:00:00+00:00"
    assert state.data_version != version
    assert project.load().watermarks("customers")[0].high_water == "2024-01-03T09:00:00+00:00"

    # And once more with nothing new: unchanged again.
    fourth = project.load().materialize(now=NOW, force=True)
    assert [(r.status, r.rows) for r in fourth.results] == [("materialized", 0)]
    assert watermarks.read_text().splitlines()[3] == repr(datetime(2024, 1, 3, 9, tzinfo=UTC))
    assert len(customer_rows(project)) == 4
    assert project.load().states()["customers"][None].data_version == state.data_version


NUMERIC = """
import pathlib

import pandas as pd
from partita import DuckDB, asset

HERE = pathlib.Path(__file__).parent


@asset(watermark="seq", storage=DuckDB(table="ledger", merge_on=["seq"]))
def ledger(context):
    with open(HERE / "watermarks.log", "a") as log:
        log.write(repr(context.watermark) + "\\n")
    source = pd.read_csv(HERE / "source.csv")
    if context.watermark is not None:
        source = source[source["seq"] > context.watermark]
    return source.reset_index(drop=True)
"""


def test_an_integer_watermark_comes_back_as_an_int(project) -> None:
    project.write("assets/ledger.py", NUMERIC)
    source = project.root / "assets" / "source.csv"
    source.write_text("seq,amount\n" + "".join(f"{i},{i * 10}\n" for i in range(1, 10)))
    project.load().materialize(now=NOW)
    source.write_text(source.read_text() + "10,100\n11,110\n")
    report = project.load().materialize(now=NOW, force=True)
    assert [r.rows for r in report.results] == [2]
    log = (project.root / "assets" / "watermarks.log").read_text().splitlines()
    assert log == ["None", "9"]  # 9, not '9' (text) and not 9.0
    assert project.load().states()["ledger"][None].watermark == "11"
    with duckdb.connect(str(project.warehouse / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*), max(seq) FROM ledger").fetchone() == (11, 11)
