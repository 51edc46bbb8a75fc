"""The PostgreSQL catalog, as the contract suite drives it: each test gets a new schema of
the session's real server (see `tests/servers/postgres.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from partita.catalog import Catalog
from partita.catalog.postgres import PostgresCatalog
from partita.processes import ProcessIdentity


class PostgresBackend:
    name = "postgres"
    # The PostgreSQL catalog began at SQLite's schema 5: the only older one is an empty
    # database (schema 0), which opening creates.
    old_versions = (0,)

    def __init__(self, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.url = request.getfixturevalue("postgres_server").new_schema()

    def open(self, process: ProcessIdentity | None = None) -> Catalog:
        # The suite passes times of 2013: leases here use the caller's clock (the server's
        # clock is tested in tests/catalog/postgres/).
        return PostgresCatalog(self.url, process=process, server_clock=False)

    def create_old(self, version: int) -> None:
        assert version == 0  # a new, empty schema
