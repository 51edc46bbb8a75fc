"""Write-audit-publish: checks run on new data before it is published. A failing blocking
check fails the unit and leaves the published data as it was; a `warn` check records the
failure and publishes; results are in the catalog, `status --json` and the run report."""

from __future__ import annotations

import duckdb

from partita.catalog.sqlite import SQLiteCatalog

from . import CATALOG, parquet_files, published_states

ASSETS = """
import pathlib

import pandas as pd
import pyarrow as pa
from partita import DuckDB, StaticPartitions, asset
from partita.checks import accepted_values, expect_columns, not_null, row_count, unique

HERE = pathlib.Path(__file__).parent


def small_amounts(df):
    return bool((df["amount"] < 100).all())


def no_negative_amounts(table: pa.Table):
    if min(table["amount"].to_pylist()) < 0:
        raise ValueError("a negative amount")


CHECKS = [
    not_null("id"),
    unique("id"),
    row_count(min=1, max=5),
    accepted_values("region", ["eu", "us"]),
    expect_columns({"id": "int64", "region": "string"}),
    small_amounts,
    no_negative_amounts,
    row_count(max=3, severity="warn"),
]


def orders_data():
    mode = (HERE / "mode.txt").read_text()
    ids, regions, amounts = [1, 2, 3], ["eu", "us", "eu"], [1.0, 2.0, 3.0]
    if mode == "null_id":
        ids = [1, None, 3]
    elif mode == "duplicate_id":
        ids = [1, 1, 3]
    elif mode == "too_many_rows":
        ids, regions, amounts = list(range(6)), ["eu"] * 6, [1.0] * 6
    elif mode == "bad_region":
        regions = ["eu", "mars", "eu"]
    elif mode == "wrong_type":
        ids = ["1", "2", "3"]
    elif mode == "huge_amount":
        amounts = [1.0, 2.0, 1000.0]
    elif mode == "negative_amount":
        amounts = [1.0, -2.0, 3.0]
    elif mode == "four_rows":
        ids, regions, amounts = [1, 2, 3, 4], ["eu"] * 4, [1.0] * 4
    return pd.DataFrame({"id": pd.array(ids, dtype=object if mode == "wrong_type" else "Int64"),
                         "region": regions, "amount": amounts})


@asset(partitions=StaticPartitions(["p1", "p2"]), checks=CHECKS)
def orders():
    return orders_data()


@asset(partitions=StaticPartitions(["p1", "p2"]), checks=CHECKS, storage=DuckDB())
def orders_db():
    return orders_data()
"""

ALL_CHECKS = [
    "not_null(id)",
    "unique(id)",
    "row_count(min=1, max=5)",
    "accepted_values(region)",
    "expect_columns(id, region)",
    "small_amounts",
    "no_negative_amounts",
    "row_count(min=None, max=3)",
]

# mode -> the checks that fail (blocking ones fail the unit)
BLOCKING = {
    "null_id": {"not_null(id)"},
    "duplicate_id": {"unique(id)"},
    "too_many_rows": {"row_count(min=1, max=5)", "row_count(min=None, max=3)"},
    "bad_region": {"accepted_values(region)"},
    "wrong_type": {"expect_columns(id, region)"},
    "huge_amount": {"small_amounts"},
    "negative_amount": {"no_negative_amounts"},
}
WARN = "row_count(min=None, max=3)"


def duckdb_rows(project) -> list[tuple]:
    with duckdb.connect(str(project.warehouse / "warehouse.duckdb"), read_only=True) as db:
        return db.execute("SELECT * FROM orders_db ORDER BY _partition, id").fetchall()


def failed_in_catalog(project) -> set[tuple[str, str, str, str]]:
    with SQLiteCatalog(project.root / CATALOG) as catalog:
        return {(a, p, c.name, c.severity) for a, p, c in catalog.failed_checks()}


def test_failing_checks_block_publishing_and_are_recorded(project) -> None:
    project.write("assets/orders.py", ASSETS)
    mode = project.root / "assets" / "mode.txt"
    mode.write_text("good")
    first = project.cli("materialize", "--json", check=0).json()
    assert {r["status"] for r in first["results"]} == {"materialized"}
    for result in first["results"]:
        assert [c["name"] for c in result["checks"]] == ALL_CHECKS
        assert all(c["passed"] and c["message"] is None for c in result["checks"])
    files, rows = parquet_files(project.warehouse, "orders"), duckdb_rows(project)
    states = {a: published_states(project.root, a) for a in ("orders", "orders_db")}
    assert failed_in_catalog(project) == set()

    for bad, failing in BLOCKING.items():
        mode.write_text(bad)
        run = project.cli("materialize", "--partition", "p1", "--force", "--json", check=1)
        report = run.json()
        assert report["status"] == "failed"
        for result in report["results"]:
            assert (result["partition"], result["status"]) == ("p1", "failed"), bad
            assert "nothing was published" in result["error"]
            not_passed = {c["name"] for c in result["checks"] if not c["passed"]}
            assert not_passed == failing, bad
            for name in failing - {WARN}:
                assert name in result["error"]
        # Nothing published: files and rows byte-identical, the catalog unchanged.
        assert parquet_files(project.warehouse, "orders") == files, bad
        assert duckdb_rows(project) == rows, bad
        assert {a: published_states(project.root, a) for a in states} == states, bad
        assert failed_in_catalog(project) == {
            (asset, "p1", name, "warn" if name == WARN else "error")
            for asset in ("orders", "orders_db")
            for name in failing
        }, bad

    status = project.cli("status", "--json", check=0).json()
    shown = {
        (s["asset"], c["partition"], c["check"], c["severity"])
        for s in status["assets"]
        for c in s["failed_checks"]
    }
    assert shown == {(a, "p1", "no_negative_amounts", "error") for a in ("orders", "orders_db")}

    # A failing warn check records the failure and publishes.
    mode.write_text("four_rows")
    report = project.cli("materialize", "--partition", "p1", "--force", "--json", check=0).json()
    for result in report["results"]:
        assert result["status"] == "materialized"
        assert [c["name"] for c in result["checks"] if not c["passed"]] == [WARN]
        assert "4 rows" in next(c["message"] for c in result["checks"] if not c["passed"])
    published = parquet_files(project.warehouse, "orders")
    assert published["partition=p2/part-0.parquet"] == files["partition=p2/part-0.parquet"]
    assert published["partition=p1/part-0.parquet"] != files["partition=p1/part-0.parquet"]
    assert len([r for r in duckdb_rows(project) if r[-1] == "p1"]) == 4
    assert published_states(project.root, "orders")["p1"][1] == 4
    expected = {(a, "p1", WARN, "warn") for a in ("orders", "orders_db")}
    assert failed_in_catalog(project) == expected
    status = project.cli("status", "--json", check=0).json()
    shown = {
        (s["asset"], c["partition"], c["check"], c["severity"])
        for s in status["assets"]
        for c in s["failed_checks"]
    }
    assert shown == expected
