"""Removing dynamic keys: data and catalog entries go together or not at all, and the
leases of the removed keys' units go with them."""

from __future__ import annotations

import sqlite3

import duckdb
import pytest
from conftest import lease_as_a_dead_process

from partita.app.dynamic_partitions import remove_partitions
from partita.app.session import open_session
from partita.errors import CatalogError

ASSETS = """
import pandas as pd
from partita import DuckDB, DynamicPartitions, asset

CUSTOMERS = DynamicPartitions("customers")


@asset(partitions=CUSTOMERS)
def profiles(context):
    return pd.DataFrame({"name": [context.partition_key]})


@asset(partitions=CUSTOMERS, storage=DuckDB())
def scores(context):
    return pd.DataFrame({"score": [len(context.partition_key)]})
"""
NOW = "2024-01-03T00:00:00+00:00"


def _leases(project) -> list[tuple]:
    connection = sqlite3.connect(project.warehouse / ".partita" / "catalog.db")
    try:
        return connection.execute("SELECT asset, partition FROM leases ORDER BY 1, 2").fetchall()
    finally:
        connection.close()


def _scores(project) -> list[tuple]:
    with duckdb.connect(str(project.warehouse / "warehouse.duckdb"), read_only=True) as db:
        return db.execute('SELECT "_partition", score FROM scores ORDER BY 1').fetchall()


@pytest.fixture
def materialized(project):
    project.write("assets/customers.py", ASSETS)
    project.cli("partitions", "add", "customers", "acme", "globex", check=0)
    project.cli("materialize", "--now", NOW, check=0)
    return project


def test_a_failing_catalog_removal_deletes_no_data(materialized, monkeypatch) -> None:
    with open_session(materialized.root) as session:

        def refuse(*args, **kwargs):
            raise CatalogError("the catalog is read-only")

        monkeypatch.setattr(session.catalog, "remove_dynamic_keys", refuse)
        with pytest.raises(CatalogError, match="read-only"):
            remove_partitions(session, "customers", ["acme"], delete_data=True)
    assert _scores(materialized) == [("acme", 4), ("globex", 6)]
    assert (materialized.warehouse / "profiles" / "partition=acme" / "part-0.parquet").is_file()
    keys = materialized.cli("partitions", "list", "customers", "--json", check=0).json()["keys"]
    assert keys == ["acme", "globex"]


def test_removing_keys_deletes_their_data_and_their_leases(materialized) -> None:
    lease_as_a_dead_process(materialized.warehouse, "scores", "acme")
    lease_as_a_dead_process(materialized.warehouse, "scores", "globex")
    with open_session(materialized.root) as session:
        removed = remove_partitions(session, "customers", ["acme"], delete_data=True)
    assert removed.keys == ("globex",)
    assert _leases(materialized) == [("scores", "globex")]
    assert _scores(materialized) == [("globex", 6)]
    assert not (materialized.warehouse / "profiles" / "partition=acme").exists()
