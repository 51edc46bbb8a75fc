"""Dynamic partitions stored in DuckDB through the real CLI: the dimension columns filter
a date x region x dynamic product table, and `partitions remove --delete-data` deletes
the rows of the removed key from every table of the file with the catalog's entries."""

from __future__ import annotations

import duckdb

from partita import load_project

ASSETS = """
import pandas as pd
from partita import (
    DailyPartitions, DuckDB, DynamicPartitions, MultiPartitions, StaticPartitions, asset
)

PRODUCTS = DynamicPartitions("products")
SALES = MultiPartitions(
    date=DailyPartitions(start="2024-01-01"),
    region=StaticPartitions(["eu", "us"]),
    product=PRODUCTS,
)


@asset(partitions=PRODUCTS, storage=DuckDB())
def catalogue(context):
    return pd.DataFrame({"name": [context.partition_key.upper()]})


@asset(partitions=SALES, storage=DuckDB())
def sales(context):
    return pd.DataFrame({"amount": [len(context.partition_key)]})
"""
NOW = "2024-01-03T00:00:00+00:00"


def _rows(project, query: str) -> list[tuple]:
    with duckdb.connect(str(project.warehouse / "warehouse.duckdb"), read_only=True) as db:
        return db.execute(query).fetchall()


def test_duckdb_tables_filter_by_dimension_and_delete_a_removed_key(project) -> None:
    project.write("assets/sales.py", ASSETS)
    project.cli("partitions", "add", "products", "p1", "p2", check=0)
    project.cli("materialize", "--now", NOW, check=0)
    eu_p1 = "SELECT date, region, product FROM sales WHERE region = 'eu' AND product = 'p1'"
    assert sorted(_rows(project, eu_p1)) == [
        ("2024-01-01", "eu", "p1"),
        ("2024-01-02", "eu", "p1"),
    ]
    refused = project.cli("partitions", "remove", "products", "p1")
    assert refused.exit_code == 2 and "Pass --delete-data" in refused.stderr
    assert _rows(project, "SELECT count(*) FROM sales WHERE product = 'p1'") == [(4,)]

    project.cli("partitions", "remove", "products", "p1", "--delete-data", check=0)
    assert _rows(project, "SELECT count(*) FROM sales WHERE product = 'p1'") == [(0,)]
    assert _rows(project, "SELECT count(*) FROM sales WHERE product = 'p2'") == [(4,)]
    assert _rows(project, "SELECT name FROM catalogue") == [("P2",)]
    loaded = load_project(project.root)
    states = loaded.states()
    assert set(states["catalogue"]) == {"p2"}
    assert all(key.endswith("|p2") for key in states["sales"])
    assert loaded.read("sales")["amount"].tolist() == [len("2024-01-01|eu|p2")] * 4
    plan = project.cli("materialize", "--plan", "--now", NOW, check=0).stdout
    assert "all 5 units are up to date" in plan
