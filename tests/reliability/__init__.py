"""Shared for the reliability tests: warehouse snapshots and catalog-vs-disk checks."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

CATALOG = Path("warehouse/.partita/catalog.db")


def tree(root: Path, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """relative path -> sha256 of every file under `root` (directories as "dir"), except
    paths starting with one of `skip` (relative, POSIX)."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(skip) or "__pycache__" in path.parts:
            continue
        found[relative] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def parquet_files(warehouse: Path, asset: str) -> dict[str, bytes]:
    """`<partition dir>/<file>` -> bytes of every visible Parquet file of a partitioned asset."""
    return {
        path.relative_to(warehouse / asset).as_posix(): path.read_bytes()
        for path in sorted((warehouse / asset).glob("*/*.parquet"))
    }


def temporary_files(warehouse: Path) -> list[Path]:
    return sorted(p for p in warehouse.rglob(".*.tmp") if p.is_file())


def catalog_rows(root: Path, sql: str, parameters: tuple = ()) -> list[tuple]:
    """Query the project's catalog read-only (without partita)."""
    uri = f"file:{root / CATALOG}?mode=ro"
    with sqlite3.connect(uri, uri=True) as connection:
        return connection.execute(sql, parameters).fetchall()


def published_states(root: Path, asset: str) -> dict[str, tuple[str, int]]:
    """partition -> (data_version, rows) of every state row of `asset` claiming data."""
    rows = catalog_rows(
        root,
        "SELECT partition, data_version, rows FROM partition_states "
        "WHERE asset = ? AND data_version IS NOT NULL",
        (asset,),
    )
    return {partition: (version, count) for partition, version, count in rows}


def leased_units(root: Path) -> set[tuple[str, str]]:
    return set(catalog_rows(root, "SELECT asset, partition FROM leases"))
