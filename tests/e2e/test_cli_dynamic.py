"""Dynamic partitions through the real CLI: keys in the catalog, an asset of date x region
x dynamic product, adding keys, removing keys with and without their data."""

from __future__ import annotations

import duckdb

from partita import load_project

ASSETS = """
import pandas as pd
from partita import (
    DailyPartitions, DynamicPartitions, MultiPartitions, StaticPartitions, asset
)

PRODUCTS = DynamicPartitions("products")
SALES = MultiPartitions(
    date=DailyPartitions(start="2024-01-01"),
    region=StaticPartitions(["eu", "us"]),
    product=PRODUCTS,
)


@asset(partitions=PRODUCTS)
def catalogue(context):
    return pd.DataFrame({"name": [context.partition_key.upper()]})


@asset(partitions=SALES)
def sales(context):
    keys = context.partition_keys
    return pd.DataFrame({"what": [keys["product"]], "where": [keys["region"]]})
"""
NOW = "2024-01-03T00:00:00+00:00"


def _keys(project) -> list[str]:
    return project.cli("partitions", "list", "products", "--json", check=0).json()["keys"]


def test_add_list_and_place_keys(project) -> None:
    project.write("assets/sales.py", ASSETS)
    assert _keys(project) == []
    project.cli("partitions", "add", "products", "p1", "p3", check=0)
    project.cli("partitions", "add", "products", "p2", "--after", "p1", check=0)
    project.cli("partitions", "add", "products", "p0", "--before", "p1", "p3", check=0)
    assert _keys(project) == ["p0", "p1", "p2", "p3"]
    listed = project.cli("partitions", "list", "products", check=0).stdout.split()
    assert listed == ["p0", "p1", "p2", "p3"]
    bad = project.cli("partitions", "add", "products", "a|b")
    assert bad.exit_code == 2
    assert "'a|b' can't be a key of the dynamic partitions 'products'" in bad.stderr
    unknown = project.cli("partitions", "add", "products", "p9", "--after", "nope")
    assert unknown.exit_code != 0
    assert "not a key of the dynamic partitions 'products'" in unknown.stderr


def test_a_three_dimensional_asset_with_dynamic_products(project) -> None:
    project.write("assets/sales.py", ASSETS)
    project.cli("partitions", "add", "products", "p1", "p2", check=0)
    project.cli("materialize", "--now", NOW, check=0)
    sales = project.warehouse / "sales"
    assert (sales / "date=2024-01-02" / "region=us" / "product=p2" / "part-0.parquet").is_file()
    rows = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{sales}/*/*/*/*.parquet', hive_partitioning=true)"
        " WHERE product = 'p1'"
    ).fetchall()
    assert rows == [(4,)]
    project.cli("partitions", "add", "products", "p3", check=0)
    plan = project.cli("materialize", "--plan", "--json", "--now", NOW, check=0).json()
    planned = sorted((unit["asset"], unit["partition"]) for unit in plan["units"])
    assert planned == [
        ("catalogue", "p3"),
        ("sales", "2024-01-01|eu|p3"),
        ("sales", "2024-01-01|us|p3"),
        ("sales", "2024-01-02|eu|p3"),
        ("sales", "2024-01-02|us|p3"),
    ]
    project.cli(
        "backfill",
        "sales",
        "--from",
        "2024-01-02",
        "--to",
        "2024-01-02",
        "--where",
        "product=p3",
        "--now",
        NOW,
        check=0,
    )
    status = project.cli("status", "sales", "--json", "--now", NOW, check=0).json()
    ranges = {(r["group"], r["state"], r["count"]) for r in status["assets"][0]["ranges"]}
    assert ("region=eu, product=p3", "missing", 1) in ranges
    assert ("region=eu, product=p1", "fresh", 2) in ranges


def test_removing_a_key_with_data_needs_delete_data(project) -> None:
    project.write("assets/sales.py", ASSETS)
    project.cli("partitions", "add", "products", "p1", "p2", check=0)
    project.cli("materialize", "--now", NOW, check=0)
    refused = project.cli("partitions", "remove", "products", "p1")
    assert refused.exit_code == 2
    assert "cannot remove 'p1' from the dynamic partitions 'products'" in refused.stderr
    assert "Pass --delete-data" in refused.stderr
    assert _keys(project) == ["p1", "p2"]
    assert (project.warehouse / "catalogue" / "partition=p1" / "part-0.parquet").is_file()
    project.cli("partitions", "remove", "products", "p1", "--delete-data", check=0)
    assert _keys(project) == ["p2"]
    assert not (project.warehouse / "catalogue" / "partition=p1").exists()
    assert not list((project.warehouse / "sales").glob("*/*/product=p1"))
    assert (project.warehouse / "catalogue" / "partition=p2" / "part-0.parquet").is_file()
    states = load_project(project.root).states()
    assert set(states["catalogue"]) == {"p2"}
    assert all(key.endswith("|p2") for key in states["sales"])
    plan = project.cli("materialize", "--plan", "--json", "--now", NOW, check=0).json()
    assert (
        [u for u in plan["units"] if u["status"] != "up_to_date"] == []
        if plan["units"] and "status" in plan["units"][0]
        else True
    )


def test_python_api_adds_and_removes_keys(project) -> None:
    project.write("assets/sales.py", ASSETS)
    loaded = load_project(project.root)
    assert loaded.add_partitions("products", ["a", "c"]) == ("a", "c")
    assert loaded.add_partitions("products", ["b"], after="a") == ("a", "b", "c")
    assert loaded.remove_partitions("products", ["c"]) == ("a", "b")
    assert loaded.partition_keys("products") == ("a", "b")


def test_worker_processes_bind_the_dynamic_keys(project) -> None:
    project.write("assets/sales.py", ASSETS)
    project.cli("partitions", "add", "products", "p1", "p2", check=0)
    result = project.cli("materialize", "--workers", "2", "--json", "--now", NOW, check=0)
    statuses = {
        (unit["asset"], unit["partition"]): unit["status"] for unit in result.json()["results"]
    }
    assert statuses[("sales", "2024-01-02|us|p2")] == "materialized"
    assert set(statuses.values()) == {"materialized"} and len(statuses) == 2 + 8
