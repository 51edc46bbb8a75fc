"""Errors of the SQLite catalog for people: a full disk says so and fails the run (exit 1)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from partita.catalog import SQLiteCatalog
from partita.catalog.sqlite.connection import translate_error
from partita.errors import EXIT_FAILED, EXIT_USAGE, CatalogError, CatalogFullError

from ..contract.helpers import attempt


def test_a_full_disk_says_so_and_fails_the_run(tmp_path: Path) -> None:
    path = tmp_path / "warehouse" / ".partita" / "catalog.db"
    with SQLiteCatalog(path) as catalog:
        catalog.record(attempt(partition="p0"))
        connection = catalog._connection
        assert connection is not None
        # SQLite's own limit on the file's size: the next pages it needs make it report
        # SQLITE_FULL ("database or disk is full"), as a full disk does.
        (pages,) = connection.execute("PRAGMA page_count").fetchone()
        connection.execute(f"PRAGMA max_page_count = {pages}")

        with pytest.raises(CatalogFullError) as raised:
            for number in range(1, 1000):
                catalog.record(attempt(partition=f"p{number}", error="x" * 1000))

        assert str(raised.value).startswith("Could not record the materialization of flights p")
        assert (
            f"in catalog {path}: the disk holding the catalog (the file system of {path.parent})"
            " is full. To fix: free space on that disk, then run again." in str(raised.value)
        )
        assert raised.value.exit_code == EXIT_FAILED == 1
        assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
        assert catalog.state("flights", "p0") is not None  # what was recorded stays


def test_a_full_disk_is_recognised_by_its_message_too(tmp_path: Path) -> None:
    error = translate_error(
        tmp_path / "catalog.db",
        "release the leases of run r1",
        sqlite3.OperationalError("database or disk is full"),
    )
    assert isinstance(error, CatalogFullError)
    assert "Could not release the leases of run r1" in str(error)
    assert "is full" in str(error) and "check that the file" not in str(error)


def test_other_errors_keep_their_advice_and_exit_code(tmp_path: Path) -> None:
    error = translate_error(
        tmp_path / "catalog.db", "open the catalog", sqlite3.OperationalError("unable to open")
    )
    assert type(error) is CatalogError
    assert error.exit_code == EXIT_USAGE
    assert "check that the file and its folder are readable and writable" in str(error)
