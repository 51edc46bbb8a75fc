"""Bringing a catalog file of any older schema up to the current one, in one transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from partita.catalog.sqlite.schema import MIGRATIONS, SCHEMA_VERSION
from partita.errors import CatalogError


def migrate(connection: sqlite3.Connection, path: Path) -> None:
    """Create or upgrade the schema of the catalog at `path` (open on `connection`).

    Refuses a database that is not a catalog, and a catalog of a newer partita.
    """
    if schema_version(connection, path) == SCHEMA_VERSION:
        return  # the common case takes no write lock
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(connection, path)  # another process may have migrated
        tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if version == 0 and tables:
            raise CatalogError(
                f"Could not open catalog {path}: it is a SQLite database but not a"
                " partita catalog. Move it aside; partita will create a new catalog there."
            )
        for steps in MIGRATIONS[version:]:
            for step in steps:
                if callable(step):
                    step(connection)
                else:
                    connection.execute(step)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def schema_version(connection: sqlite3.Connection, path: Path) -> int:
    """The schema version of the open catalog; CatalogError when newer than this partita's."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise CatalogError(
            f"Could not open catalog {path}: it was written by a newer partita (schema"
            f" {version}, this partita reads up to {SCHEMA_VERSION}): upgrade partita."
        )
    return version
