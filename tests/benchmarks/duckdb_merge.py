"""DuckDB merge: partita replacing N partitions of R rows in a DuckDB table, against the
same DELETE + INSERT statements issued by hand (one connection per partition, like
partita, which holds the file open only while a write runs)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from partita.storage.duckdb import DuckDBStorage

from .common import median_time, report


def tables(count: int, rows: int) -> list[tuple[str, pa.Table]]:
    rng = np.random.default_rng(7)
    return [
        (
            f"2024-{1 + i // 28:02d}-{1 + i % 28:02d}" if i < 336 else f"p{i}",
            pa.table(
                {
                    "id": np.arange(rows, dtype="int64"),
                    "value": rng.random(rows),
                    "label": pa.array([f"x{j % 97}" for j in range(rows)]),
                }
            ),
        )
        for i in range(count)
    ]


def by_hand(path: Path, partitions: list[tuple[str, pa.Table]]) -> None:
    for partition, table in partitions:
        connection = duckdb.connect(str(path))
        connection.register("incoming", table)
        connection.execute(
            "CREATE TABLE IF NOT EXISTS t AS SELECT *, ''::VARCHAR AS _partition "
            "FROM incoming LIMIT 0"
        )
        connection.execute("BEGIN TRANSACTION")
        connection.execute("DELETE FROM t WHERE _partition = ?", [partition])
        connection.execute("INSERT INTO t SELECT *, ? FROM incoming", [partition])
        connection.execute("COMMIT")
        connection.close()


def with_partita(folder: Path, partitions: list[tuple[str, pa.Table]]) -> None:
    storage = DuckDBStorage(folder, "t", "date", None, None, "warehouse.duckdb")
    for partition, table in partitions:
        storage.write(partition, table)


def run(smoke: bool) -> None:
    count, rows, repeat = (10, 1_000, 1) if smoke else (366, 10_000, 3)
    partitions = tables(count, rows)

    def fresh(action) -> float:
        def once() -> None:
            folder = Path(tempfile.mkdtemp(prefix="partita-duckdb-"))
            try:
                # Replace every partition twice: the second pass deletes existing rows.
                action(folder, partitions)
                action(folder, partitions)
            finally:
                shutil.rmtree(folder, ignore_errors=True)

        return median_time(once, repeat)

    hand = fresh(lambda folder, parts: by_hand(folder / "warehouse.duckdb", parts))
    partita = fresh(with_partita)
    report(
        f"DuckDB merge: {count} partitions x {rows:,} rows, written twice",
        [
            ("DELETE + INSERT by hand", f"{hand:.2f} s"),
            ("partita DuckDBStorage", f"{partita:.2f} s"),
            ("partita / by hand", f"{partita / hand:.2f}x"),
        ],
    )
