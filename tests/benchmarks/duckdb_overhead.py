"""DuckDB overhead per partition: partita's DuckDB storage, opened for a run (the file held
open between writes), against the same transactions (DELETE + INSERT of one partition)
issued by hand on one open connection, in the same process, interleaved."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from partita.storage.duckdb import DuckDBStorage

from .common import report


def partitions(count: int, rows: int) -> list[tuple[str, pa.Table]]:
    """Small partitions like the example's carrier_delays (about 15 rows a day)."""
    rng = np.random.default_rng(11)
    return [
        (
            f"p{i:04d}",
            pa.table(
                {
                    "carrier": pa.array([f"C{j % 16}" for j in range(rows)]),
                    "flights": np.arange(rows, dtype="int64"),
                    "delay": rng.random(rows),
                }
            ),
        )
        for i in range(count)
    ]


def by_hand(path: Path, parts: list[tuple[str, pa.Table]]) -> float:
    """Seconds per partition for the bare transactions on one open connection."""
    connection = duckdb.connect(str(path))
    try:
        connection.register("incoming", parts[0][1])
        connection.execute(
            "CREATE TABLE IF NOT EXISTS t AS SELECT *, ''::VARCHAR AS _partition "
            "FROM incoming LIMIT 0"
        )
        started = time.perf_counter()
        for partition, table in parts:
            connection.register("incoming", table)
            connection.execute("BEGIN TRANSACTION")
            connection.execute("DELETE FROM t WHERE _partition = ?", [partition])
            connection.execute("INSERT INTO t SELECT *, ? FROM incoming", [partition])
            connection.execute("COMMIT")
        return (time.perf_counter() - started) / len(parts)
    finally:
        connection.close()


def with_partita(path: Path, parts: list[tuple[str, pa.Table]]) -> float:
    """Seconds per partition for `DuckDBStorage.write` during a run."""
    storage = DuckDBStorage(path.parent, "t", "date", None, None, path.name)
    storage.open("benchmark")
    try:
        storage.write(*parts[0])  # creates the table, as by_hand does before timing
        started = time.perf_counter()
        for partition, table in parts:
            storage.write(partition, table)
        return (time.perf_counter() - started) / len(parts)
    finally:
        storage.close()


def in_fresh_folder(action: Callable[[Path, list[tuple[str, pa.Table]]], float], parts) -> float:
    folder = Path(tempfile.mkdtemp(prefix="partita-duckdb-"))
    try:
        action(folder / "warehouse.duckdb", parts)  # first pass inserts every partition
        return action(folder / "warehouse.duckdb", parts)  # second pass replaces them
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(smoke: bool) -> None:
    count, rows, repeat = (20, 15, 1) if smoke else (365, 15, 3)
    parts = partitions(count, rows)
    hand, partita = [], []
    for _ in range(repeat):  # interleaved, so both see the same machine load
        hand.append(in_fresh_folder(by_hand, parts))
        partita.append(in_fresh_folder(with_partita, parts))
    hand_ms = statistics.median(hand) * 1000
    partita_ms = statistics.median(partita) * 1000
    report(
        f"DuckDB overhead: {count} partitions x {rows} rows, replaced on an open file",
        [
            ("by hand, one open connection", f"{hand_ms:.2f} ms / partition"),
            ("partita DuckDBStorage (run open)", f"{partita_ms:.2f} ms / partition"),
            ("framework overhead", f"{partita_ms - hand_ms:+.2f} ms / partition (target < 5)"),
        ],
    )
