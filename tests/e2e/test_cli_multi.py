"""A date x region x product asset through the real CLI: materialize, per-dimension reads,
hive folders DuckDB reads back, status."""

from __future__ import annotations

import duckdb

ASSETS = """
import pandas as pd
from partita import DailyPartitions, MultiPartitions, StaticPartitions, asset

DAYS = DailyPartitions(start="2024-01-01", timezone="UTC")
REGIONS = StaticPartitions(["eu", "us"])
SALES = MultiPartitions(date=DAYS, region=REGIONS, product=StaticPartitions(["p1", "p2"]))


@asset(partitions=SALES)
def sales(context):
    keys = context.partition_keys
    return pd.DataFrame(
        {
            "day": [keys["date"]],
            "where": [keys["region"]],
            "what": [keys["product"]],
            "hours": [context.partition_duration.total_seconds() / 3600],
            "start": [context.partition_start.isoformat()],
        }
    )


@asset(partitions=MultiPartitions(date=DAYS, region=REGIONS))
def by_region(sales):
    return sales.groupby(["day", "where"], as_index=False).size()


@asset(partitions=DAYS)
def daily(by_region):
    return by_region.groupby("day", as_index=False)["size"].sum()
"""


def test_a_three_dimensional_asset_materializes_and_reads_per_dimension(project) -> None:
    project.write("assets/sales.py", ASSETS)
    project.cli("materialize", "--now", "2024-01-03T00:00:00+00:00", check=0)
    sales = project.warehouse / "sales"
    folder = sales / "date=2024-01-02" / "region=us" / "product=p2"
    assert (folder / "part-0.parquet").is_file()
    loaded = project.load()
    row = loaded.read("sales", "2024-01-02|us|p2").iloc[0].to_dict()
    assert row == {
        "day": "2024-01-02",
        "where": "us",
        "what": "p2",
        "hours": 24.0,
        "start": "2024-01-02T00:00:00+00:00",
    }
    assert loaded.read("by_region", "2024-01-01|eu")["size"].tolist() == [2]
    assert loaded.read("daily", "2024-01-02")["size"].tolist() == [4]
    rows = duckdb.sql(
        f"SELECT date, region, product, what FROM read_parquet('{sales}/*/*/*/*.parquet', "
        "hive_partitioning = true) WHERE region = 'us' AND product = 'p1' ORDER BY date"
    ).fetchall()
    assert [(str(day), region, product, what) for day, region, product, what in rows] == [
        ("2024-01-01", "us", "p1", "p1"),
        ("2024-01-02", "us", "p1", "p1"),
    ]


def _planned(result) -> list[tuple[str, str]]:
    return [(unit["asset"], unit["partition"]) for unit in result.json()["units"]]


def test_backfill_by_time_range_and_where(project) -> None:
    project.write("assets/sales.py", ASSETS)
    now = "2024-01-05T00:00:00+00:00"
    plan = project.cli(
        "materialize",
        "sales",
        "--from",
        "2024-01-02",
        "--to",
        "2024-01-03",
        "--where",
        "region=us",
        "--where",
        "product=p1,p2",
        "--plan",
        "--json",
        "--now",
        now,
        check=0,
    )
    assert _planned(plan) == [
        ("sales", "2024-01-02|us|p1"),
        ("sales", "2024-01-02|us|p2"),
        ("sales", "2024-01-03|us|p1"),
        ("sales", "2024-01-03|us|p2"),
    ]
    project.cli(
        "backfill",
        "sales",
        "--from",
        "2024-01-02",
        "--to",
        "2024-01-03",
        "--where",
        "region=us,eu",
        "--where",
        "product=p2",
        "--now",
        now,
        check=0,
    )
    stored = sorted(
        "/".join(path.relative_to(project.warehouse / "sales").parts[:-1])
        for path in (project.warehouse / "sales").rglob("*.parquet")
    )
    assert stored == [
        "date=2024-01-02/region=eu/product=p2",
        "date=2024-01-02/region=us/product=p2",
        "date=2024-01-03/region=eu/product=p2",
        "date=2024-01-03/region=us/product=p2",
    ]
    one = project.cli(
        "materialize",
        "sales",
        "--partition",
        "2024-01-04|eu|p1",
        "--plan",
        "--json",
        "--now",
        now,
        check=0,
    )
    assert _planned(one) == [("sales", "2024-01-04|eu|p1")]


def test_where_errors_name_the_dimension(project) -> None:
    project.write("assets/sales.py", ASSETS)
    now = "2024-01-05T00:00:00+00:00"
    wrong = project.cli("materialize", "--where", "planet=mars", "--plan", "--now", now)
    assert wrong.exit_code == 2
    assert "no selected asset has a dimension 'planet'" in wrong.stderr
    value = project.cli("materialize", "sales", "--where", "region=mars", "--plan", "--now", now)
    assert value.exit_code == 2
    assert "--where region=mars names a value its dimension 'region' lacks" in value.stderr
    syntax = project.cli("materialize", "--where", "region", "--plan", "--now", now)
    assert syntax.exit_code == 2
    assert "is not DIMENSION=VALUE" in syntax.stderr


def test_status_and_plan_group_per_combination(project) -> None:
    project.write("assets/sales.py", ASSETS)
    now = "2024-01-04T00:00:00+00:00"
    project.cli("materialize", "sales", "--where", "region=eu", "--now", now, check=0)
    status = project.cli("status", "sales", "--json", "--now", now, check=0).json()
    (sales,) = status["assets"]
    assert (sales["fresh"], sales["missing"]) == (6, 6)
    ranges = [(r["group"], r["first"], r["last"], r["count"], r["state"]) for r in sales["ranges"]]
    assert ranges == [
        ("region=eu, product=p1", "2024-01-01|eu|p1", "2024-01-03|eu|p1", 3, "fresh"),
        ("region=eu, product=p2", "2024-01-01|eu|p2", "2024-01-03|eu|p2", 3, "fresh"),
        ("region=us, product=p1", "2024-01-01|us|p1", "2024-01-03|us|p1", 3, "missing"),
        ("region=us, product=p2", "2024-01-01|us|p2", "2024-01-03|us|p2", 3, "missing"),
    ]
    plan = project.cli("materialize", "sales", "--plan", "--now", now, check=0).stdout
    assert "2024-01-01|us|p1 .. 2024-01-03|us|p1 (3 partitions)" in plan
    assert "2024-01-01|us|p2 .. 2024-01-03|us|p2 (3 partitions)" in plan


FRESH_ASSETS = """
import pandas as pd
from partita import DailyPartitions, FreshnessPolicy, MultiPartitions, StaticPartitions, asset

SALES = MultiPartitions(
    date=DailyPartitions(start="2024-01-01"), region=StaticPartitions(["eu", "us"])
)


@asset(partitions=SALES, freshness=FreshnessPolicy(max_lag="6h"))
def sales(context):
    return pd.DataFrame({"place": [context.partition_keys["region"]]})
"""


def test_freshness_judges_the_latest_day_of_every_combination(project) -> None:
    project.write("assets/sales.py", FRESH_ASSETS)
    project.cli("materialize", "--now", "2024-01-03T00:00:00+00:00", check=0)
    fresh = project.cli("freshness", "--now", "2024-01-03T01:00:00+00:00", "--json", check=0)
    (verdict,) = fresh.json()["assets"]
    assert (verdict["verdict"], verdict["expected_partition"]) == ("fresh", "2024-01-02")
    # the next day: only eu is built, so us is behind, pending until the 6h deadline
    project.cli(
        "materialize",
        "--partition",
        "2024-01-03|eu",
        "--now",
        "2024-01-04T00:00:00+00:00",
        check=0,
    )
    pending = project.cli("freshness", "--now", "2024-01-04T05:00:00+00:00", "--json", check=0)
    (verdict,) = pending.json()["assets"]
    assert (verdict["verdict"], verdict["reason"]) == ("pending", "missing: 2024-01-03|us")
    overdue = project.cli("freshness", "--now", "2024-01-04T07:00:00+00:00", "--json", check=1)
    (verdict,) = overdue.json()["assets"]
    assert (verdict["verdict"], verdict["expected_partition"]) == ("overdue", "2024-01-03")


def test_watermarks_per_combination(project) -> None:
    project.write("assets/sales.py", FRESH_ASSETS)
    now = "2024-01-04T00:00:00+00:00"
    project.cli("materialize", "--where", "region=eu", "--now", now, check=0)
    project.cli("materialize", "--partition", "2024-01-01|us", "--now", now, check=0)
    (sales,) = project.cli("watermarks", "--now", now, "--json", check=0).json()["assets"]
    assert sales["complete_through"] == "2024-01-01"
    assert [
        (c["group"], c["latest_partition"], c["complete_through"]) for c in sales["combinations"]
    ] == [
        ("region=eu", "2024-01-03", "2024-01-03"),
        ("region=us", "2024-01-01", "2024-01-01"),
    ]
    table = project.cli("watermarks", "--now", now, check=0).stdout
    assert "region=us" in table


def test_list_and_lineage_show_the_dimensions(project) -> None:
    project.write("assets/sales.py", ASSETS)
    now = "2024-01-03T00:00:00+00:00"
    listed = project.cli("list", "--json", "--now", now, check=0).json()
    sales = next(a for a in listed["assets"] if a["name"] == "sales")
    assert sales["partitions"]["dimensions"] == [
        {"name": "date", "kind": "daily"},
        {"name": "region", "kind": "static"},
        {"name": "product", "kind": "static"},
    ]
    assert (sales["partitions"]["count"], sales["partitions"]["last"]) == (8, "2024-01-02|us|p2")
    table = project.cli("list", "--now", now, check=0).stdout
    assert "multi (date: daily x region: static x product: static) x8" in table
    mermaid = project.cli("lineage", "--format", "mermaid", "--now", now, check=0).stdout
    assert "date: daily x region: static, parquet" in mermaid


def test_status_ranges_with_mixed_states_per_combination(project) -> None:
    project.write("assets/sales.py", FRESH_ASSETS)
    now = "2024-01-05T00:00:00+00:00"
    project.cli("materialize", "--from", "2024-01-03", "--to", "2024-01-04", "--now", now, check=0)
    project.cli("materialize", "--partition", "2024-01-01|us", "--now", now, check=0)
    (sales,) = project.cli("status", "--json", "--now", now, check=0).json()["assets"]
    ranges = [(r["group"], r["first"], r["last"], r["state"]) for r in sales["ranges"]]
    assert ranges == [
        ("region=eu", "2024-01-01|eu", "2024-01-02|eu", "missing"),
        ("region=eu", "2024-01-03|eu", "2024-01-04|eu", "fresh"),
        ("region=us", "2024-01-01|us", "2024-01-01|us", "fresh"),
        ("region=us", "2024-01-02|us", "2024-01-02|us", "missing"),
        ("region=us", "2024-01-03|us", "2024-01-04|us", "fresh"),
    ]
