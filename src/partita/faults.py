"""Fault injection for crash tests: `PARTITA_FAULT=POINT[@N]` kills this process with
SIGKILL the Nth time (default: first) it reaches POINT.

Points: `asset` (the asset function has returned, nothing written), `parquet-write`
(half of a Parquet file written), `duckdb-transaction` (rows deleted, new rows not yet
committed), `before-catalog-commit` (data durable on disk, catalog not yet told).
History and restores (`partita.storage.parquet`, `partita.storage.duckdb_history`,
`partita.execution.restore`):
`parquet-kept` / `duckdb-kept` (the replaced version kept, the new one not yet published),
`parquet-restore` / `duckdb-restore` (a restore about to publish), `parquet-restored` (a
restored file published, its kept copy not yet removed), `restore-before-catalog-commit`.
Object storage (`partita.storage.s3_parquet`, writes and restores alike): `s3-kept` (the
replaced object kept, the new one not yet put), `s3-published` (the new object put, its
kept copy not yet removed).
The daemon: `daemon-launch` (a tick's requests recorded, its run not launched).
"""

from __future__ import annotations

import os
import signal

FAULT_ENVIRONMENT = "PARTITA_FAULT"
FAULT_POINTS = (
    "asset",
    "parquet-write",
    "duckdb-transaction",
    "before-catalog-commit",
    "parquet-kept",
    "duckdb-kept",
    "parquet-restore",
    "duckdb-restore",
    "parquet-restored",
    "restore-before-catalog-commit",
    "s3-kept",
    "s3-published",
    "daemon-launch",
)

_hits: dict[str, int] = {}


def fault_point(name: str) -> None:
    """Die here, without any cleanup, when the environment asks for it."""
    wanted = os.environ.get(FAULT_ENVIRONMENT)
    if not wanted:
        return
    point, _, nth = wanted.partition("@")
    if point not in FAULT_POINTS:
        raise ValueError(
            f"{FAULT_ENVIRONMENT}={wanted!r}: the points are {', '.join(FAULT_POINTS)}"
        )
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
