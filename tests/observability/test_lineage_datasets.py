"""OpenLineage dataset names from storage locations, partition dimensions, assertions."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from partita import DailyPartitions, DuckDB, Parquet, asset
from partita.catalog.records import CheckResult
from partita.observability.lineage.datasets import (
    assertions,
    dataset_name,
    partition_dimensions,
)


@asset(partitions=DailyPartitions(start="2024-01-01"))
def orders():
    return pd.DataFrame()


@asset(partitions=DailyPartitions(start="2024-01-01"), storage=Parquet(partition_column="day"))
def visits():
    return pd.DataFrame()


@asset(storage=DuckDB(table="totals", database="marts/sales.duckdb"))
def totals():
    return pd.DataFrame()


@dataclass
class FakeStorage:
    where: str
    path: Path | None = None
    table: str | None = None

    def location(self, partition=None) -> str:
        return self.where


def test_names_follow_the_storage() -> None:
    assert dataset_name(orders, FakeStorage("/w/orders"), "partita://p") == (
        f"file://{socket.gethostname()}",
        "/w/orders",
    )
    assert dataset_name(orders, FakeStorage("s3://bucket/lake/orders"), "partita://p") == (
        "s3://bucket",
        "lake/orders",
    )
    duck = FakeStorage(
        "table 'totals' of /w/marts/sales.duckdb", Path("/w/marts/sales.duckdb"), "totals"
    )
    assert dataset_name(totals, duck, "partita://p") == (
        "duckdb:///w/marts/sales.duckdb",
        "sales.main.totals",
    )


def test_partition_dimensions_use_the_storage_column() -> None:
    assert partition_dimensions(orders, "2024-01-02") == {"date": "2024-01-02"}
    assert partition_dimensions(visits, "2024-01-02") == {"day": "2024-01-02"}
    assert partition_dimensions(totals, None) == {}


def test_checks_become_assertions() -> None:
    checks = (
        CheckResult("unique(id)", "error", True),
        CheckResult("row_count", "warn", False, "0"),
    )
    assert assertions(checks) == [
        {"assertion": "unique(id)", "success": True, "severity": "error", "description": None},
        {"assertion": "row_count", "success": False, "severity": "warn", "description": "0"},
    ]
