"""Catalog URLs: `sqlite:///path/catalog.db` (the default, inside the warehouse) or
`postgresql://USER@HOST:PORT/DB` (extra `postgres`), opened by the backend they name."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from partita.catalog.base import Catalog
from partita.errors import UsageError
from partita.urls import redact

SQLITE_SCHEME = "sqlite"
POSTGRES_SCHEMES = ("postgresql", "postgres")


def open_catalog_url(url: str) -> Catalog:
    """Open (creating if needed) the catalog the URL names."""
    scheme = urlsplit(url).scheme
    if scheme in POSTGRES_SCHEMES:
        try:
            from partita.catalog.postgres import PostgresCatalog
        except ImportError as error:
            raise UsageError(
                f"the catalog {redact(url)} is on PostgreSQL, which needs the driver psycopg:"
                f" install partita with the extra 'postgres' (pip install 'partita[postgres]')."
                f" ({error})"
            ) from error
        return PostgresCatalog(url)
    if scheme == SQLITE_SCHEME:
        from partita.catalog.sqlite import SQLiteCatalog

        return SQLiteCatalog(sqlite_path(url))
    raise UsageError(
        f"unknown catalog {redact(url)!r}: a catalog is 'sqlite:///path/catalog.db' or"
        " 'postgresql://USER@HOST:PORT/DB' (set `catalog` under [tool.partita] or"
        " PARTITA_CATALOG)."
    )


def sqlite_path(url: str) -> Path:
    """The file of a `sqlite:///path` URL (three slashes and an absolute path)."""
    parts = urlsplit(url)
    if parts.netloc or not parts.path.startswith("/"):
        raise UsageError(
            f"the SQLite catalog URL {url!r} must name an absolute path after three slashes,"
            " e.g. 'sqlite:///srv/partita/catalog.db'."
        )
    return Path(unquote(parts.path))
