"""The SQLite catalog backend: one file per warehouse (see `schema.py` for its tables)."""

from partita.catalog.sqlite.connection import BUSY_TIMEOUT_SECONDS
from partita.catalog.sqlite.schema import SCHEMA_VERSION
from partita.catalog.sqlite.store import SQLiteCatalog

__all__ = ["BUSY_TIMEOUT_SECONDS", "SCHEMA_VERSION", "SQLiteCatalog"]
