"""The PostgreSQL catalog backend (extra `postgres`): one catalog shared by the machines of
a cluster. It runs the SQLite backend's queries (see `connection.py`)."""

from partita.catalog.postgres.store import PostgresCatalog

__all__ = ["PostgresCatalog"]
