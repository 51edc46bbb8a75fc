"""Data in and out: inputs shaped by annotation, the context, return types, reading back,
storage layout and idempotency (Parquet bytes, DuckDB rows)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

from partita.errors import PartitionError

from . import DAYS, NOW, statuses

SOURCE = """
import numpy as np
import pandas as pd
import pyarrow as pa
from partita import DailyPartitions, asset

DAILY = DailyPartitions(start="2024-01-01")


@asset(partitions=DAILY)
def events(context):
    rng = np.random.default_rng(int(context.partition_key.replace("-", "")))
    return pd.DataFrame(
        {
            "day": [context.partition_key] * 4,
            "id": np.arange(4, dtype="int64"),
            "value": rng.normal(size=4).round(6),
        }
    )
"""

SHAPES = (
    SOURCE
    + '''

@asset(partitions=DAILY)
def as_pandas(events):
    assert isinstance(events, pd.DataFrame), type(events)
    return pd.DataFrame({"kind": [type(events).__name__], "rows": [len(events)]})


@asset(partitions=DAILY)
def as_arrow(events: pa.Table):
    assert isinstance(events, pa.Table), type(events)
    return pa.table({"kind": [type(events).__name__], "rows": [events.num_rows]})


@asset(partitions=DAILY)
def as_relation(events: "duckdb.DuckDBPyRelation"):
    import duckdb

    assert isinstance(events, duckdb.DuckDBPyRelation), type(events)
    count = events.aggregate("count(*) AS rows").fetchall()[0][0]
    return pd.DataFrame({"kind": ["DuckDBPyRelation"], "rows": [count]})


@asset
def everything(events: pa.Table):
    """Unpartitioned: reads every partition of events."""
    return events.group_by("day").aggregate([("value", "count")]).sort_by("day")
'''
)


def read_parquet_bytes(warehouse: Path, asset: str) -> dict[str, bytes]:
    return {
        str(path.relative_to(warehouse)): path.read_bytes()
        for path in sorted((warehouse / asset).rglob("*.parquet"))
    }


def test_inputs_take_the_shape_their_annotation_asks_for(project) -> None:
    project.write("assets/shapes.py", SHAPES)
    report = project.load().materialize(now=NOW)
    assert not report.failed, [r.error for r in report.results if r.error]
    loaded = project.load()
    for asset, kind in [
        ("as_pandas", "DataFrame"),
        ("as_arrow", "Table"),
        ("as_relation", "DuckDBPyRelation"),
    ]:
        frame = loaded.read(asset, "2024-01-02")
        assert frame.to_dict("list") == {"kind": [kind], "rows": [4]}, asset
    everything = loaded.read("everything")
    assert everything.to_dict("list") == {"day": DAYS, "value_count": [4, 4, 4]}


def test_an_asset_receives_exactly_the_mapped_partition(project) -> None:
    project.write(
        "assets/shapes.py",
        SOURCE
        + """

@asset(partitions=DAILY)
def copy(events):
    return events
""",
    )
    project.load().materialize(now=NOW)
    loaded = project.load()
    for day in DAYS:
        pd.testing.assert_frame_equal(loaded.read("copy", day), loaded.read("events", day))
        assert loaded.read("copy", day)["day"].unique().tolist() == [day]


def test_the_context_describes_the_partition_in_its_timezone(project) -> None:
    project.write(
        "assets/ctx.py",
        """
        import pandas as pd
        from partita import DailyPartitions, asset

        @asset(partitions=DailyPartitions(start="2024-03-09", timezone="America/New_York"))
        def stamped(context):
            return pd.DataFrame(
                {
                    "asset": [context.asset_name],
                    "key": [context.partition_key],
                    "start": [context.partition_start.isoformat()],
                    "end": [context.partition_end.isoformat()],
                    "hours": [context.partition_duration.total_seconds() / 3600],
                    "run_id": [context.run_id],
                }
            )

        @asset
        def whole(context):
            return pd.DataFrame(
                {
                    "key": [repr(context.partition_key)],
                    "start": [repr(context.partition_start)],
                    "duration": [repr(context.partition_duration)],
                }
            )
        """,
    )
    # the New York day 2024-03-10 (23 hours long: DST starts) ends at 2024-03-11T04:00Z
    now = datetime(2024, 3, 11, 4, tzinfo=ZoneInfo("UTC"))
    report = project.load().materialize(now=now)
    assert statuses(report) == {
        ("stamped", "2024-03-09"): "materialized",
        ("stamped", "2024-03-10"): "materialized",
        ("whole", None): "materialized",
    }
    loaded = project.load()
    row = loaded.read("stamped", "2024-03-10").iloc[0]
    assert row["asset"] == "stamped"
    assert row["key"] == "2024-03-10"
    assert row["start"] == "2024-03-10T00:00:00-05:00"
    assert row["end"] == "2024-03-11T00:00:00-04:00"
    assert row["hours"] == 23  # partition_end - partition_start would say 24 (wall clock)
    assert row["run_id"] == report.run_id
    start = datetime.fromisoformat(row["start"])
    assert start == datetime(2024, 3, 10, tzinfo=ZoneInfo("America/New_York"))
    assert loaded.read("whole").iloc[0].to_dict() == {
        "key": "None",
        "start": "None",
        "duration": "None",
    }


@pytest.mark.parametrize(
    ("returned", "type_name"),
    [("None", "builtins.NoneType"), ("[1, 2]", "builtins.list"), ("pd.Series([1])", "Series")],
)
def test_a_wrong_return_type_fails_the_unit(project, returned, type_name) -> None:
    project.write(
        "assets/bad.py",
        f"""
        import pandas as pd
        from partita import asset

        @asset
        def bad():
            return {returned}

        @asset
        def after(bad):
            return bad

        @asset
        def fine():
            return pd.DataFrame({{"x": [1]}})
        """,
    )
    report = project.load().materialize(now=NOW)
    results = {r.asset: r for r in report.results}
    assert results["bad"].status == "failed"
    assert results["bad"].error.startswith("asset 'bad' returned ")
    assert type_name in results["bad"].error
    assert results["after"].status == "skipped"
    assert results["fine"].status == "materialized"


def test_read_one_partition_a_range_or_everything(project) -> None:
    project.write("assets/events.py", SOURCE)
    project.load().materialize(now=NOW)
    loaded = project.load()
    one = loaded.read("events", "2024-01-02")
    assert isinstance(one, pd.DataFrame)
    assert one["day"].unique().tolist() == ["2024-01-02"]
    assert len(one) == 4
    some = loaded.read("events", ("2024-01-02", "2024-01-03"))
    assert some["day"].unique().tolist() == ["2024-01-02", "2024-01-03"]
    assert loaded.read("events")["day"].unique().tolist() == DAYS
    month = loaded.read("events", "2024-01")  # only the materialized days of January
    assert len(month) == 12


def test_reading_a_partition_never_written_is_an_error(project) -> None:
    project.write("assets/events.py", SOURCE)
    project.load().materialize("events", "2024-01-01", now=NOW)
    loaded = project.load()
    with pytest.raises(Exception, match="2024-01-02"):
        loaded.read("events", "2024-01-02")
    with pytest.raises(PartitionError, match="no materialized partition"):
        loaded.read("events", ("2024-01-05", "2024-01-06"))


def test_parquet_layout_is_hive_partitioned_and_readable_by_duckdb_and_pandas(project) -> None:
    project.write("assets/events.py", SOURCE)
    project.load().materialize(now=NOW)
    root = project.warehouse / "events"
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == [
        f"date={day}" for day in DAYS
    ]
    frame = duckdb.sql(
        f"SELECT date, count(*) AS n FROM read_parquet('{root}/*/*.parquet', "
        "hive_partitioning=true) GROUP BY date ORDER BY date"
    ).fetchall()
    assert [(str(d), n) for d, n in frame] == [(day, 4) for day in DAYS]
    assert len(pd.read_parquet(root)) == 12


def test_materializing_twice_with_force_gives_byte_identical_parquet(project) -> None:
    project.write("assets/shapes.py", SHAPES)
    project.load().materialize(now=NOW)
    before = {a: read_parquet_bytes(project.warehouse, a) for a in ("events", "everything")}
    report = project.load().materialize(now=NOW, force=True)
    assert {r.status for r in report.results} == {"materialized"}
    after = {a: read_parquet_bytes(project.warehouse, a) for a in ("events", "everything")}
    assert after == before
    assert len(after["events"]) == 3


DUCK = """
import pandas as pd
from partita import DailyPartitions, DuckDB, asset

DAILY = DailyPartitions(start="2024-01-01")


@asset(partitions=DAILY, storage=DuckDB())
def sales(context):
    day = context.partition_key
    return pd.DataFrame({"day": [day] * 3, "id": [1, 2, 3], "amount": [1.5, 2.5, 3.5]})


@asset(partitions=DAILY, storage=DuckDB(merge_on=["customer"]))
def customers(context):
    day = int(context.partition_key[-2:])
    return pd.DataFrame({"customer": [day, day + 1], "seen": [context.partition_key] * 2})


@asset(storage=DuckDB(table="sales_total"))
def total(sales):
    return pd.DataFrame({"rows": [len(sales)], "amount": [float(sales["amount"].sum())]})
"""


def duck_rows(project, query: str) -> list[tuple]:
    with duckdb.connect(str(project.warehouse / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(query).fetchall()


def test_duckdb_rematerializing_a_partition_replaces_exactly_its_rows(project) -> None:
    project.write("assets/duck.py", DUCK)
    project.load().materialize(now=NOW)
    query = "SELECT day, id, amount FROM sales ORDER BY day, id"
    before = duck_rows(project, query)
    assert len(before) == 9
    assert len(set(before)) == 9
    for _ in range(2):
        report = project.load().materialize(now=NOW, force=True)
        assert not report.failed
    assert duck_rows(project, query) == before
    report = project.load().materialize("sales", "2024-01-02", force=True, now=NOW)
    assert statuses(report) == {("sales", "2024-01-02"): "materialized"}
    assert duck_rows(project, query) == before
    assert duck_rows(project, "SELECT * FROM sales_total") == [(9, 22.5)]
    loaded = project.load()
    assert loaded.read("sales", "2024-01-03")["id"].tolist() == [1, 2, 3]
    assert len(loaded.read("sales")) == 9


def test_duckdb_merge_on_upserts_without_duplicates(project) -> None:
    project.write("assets/duck.py", DUCK)
    project.load().materialize("customers", now=NOW)
    # day d writes customers d and d + 1: 1 and 2, then 2 and 3, then 3 and 4
    query = "SELECT customer, seen FROM customers ORDER BY customer"
    expected = [(1, "2024-01-01"), (2, "2024-01-02"), (3, "2024-01-03"), (4, "2024-01-03")]
    assert duck_rows(project, query) == expected
    project.load().materialize("customers", force=True, now=NOW)
    assert duck_rows(project, query) == expected
