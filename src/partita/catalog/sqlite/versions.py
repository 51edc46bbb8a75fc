"""Versions in the SQLite catalog: which data each partition had when, and restores.

A restore is recorded as any attempt (history row, state, sequence), marked `restored`.
In the same transaction the readers that read the unit at the restored data version, and
whose every input is again the current data version of its upstream, are brought up to
date as of the restore's sequence (their `consumed_seq`, and `seq` so planners' snapshots
see the change): they never read the data that the restore took back (early cutoff).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from partita.catalog.records import AttemptStatus, MaterializationRecord
from partita.catalog.sqlite.attempts import draw_sequences, record_parameters, write_attempt
from partita.catalog.sqlite.connection import SQLiteConnection
from partita.catalog.sqlite.rows import (
    HISTORY_COLUMNS,
    history_from_row,
    inputs_from_json,
    partition_from_text,
    partition_to_text,
)
from partita.errors import CatalogError, unit_label

Unit = tuple[str, str | None]

# The last successful attempt of each partition of an asset up to a bound (an id, a time).
_AS_OF = f"""
SELECT {HISTORY_COLUMNS} FROM materializations WHERE id IN (
    SELECT max(id) FROM materializations
    WHERE asset = ? AND status = ? AND data_version IS NOT NULL AND {{bound}}
    GROUP BY partition
)
ORDER BY partition
"""


class SQLiteVersions(SQLiteConnection):
    """The `Versions` role of the SQLite catalog."""

    def versions_as_of(
        self, asset: str, *, run_id: str | None = None, moment: datetime | None = None
    ) -> dict[str | None, MaterializationRecord]:
        """The successful attempt whose data each partition of `asset` had just after run
        `run_id` recorded its last attempt (or, when it recorded none, when it finished),
        or at `moment`; partitions that had no data then are absent."""
        if (run_id is None) == (moment is None):
            raise CatalogError("versions_as_of takes exactly one of run_id and moment.")
        with self._read_transaction(f"read the versions of {asset}") as connection:
            bound, parameter = self._bound(connection, run_id, moment)
            rows = connection.execute(
                _AS_OF.format(bound=bound),
                (asset, AttemptStatus.MATERIALIZED, parameter),
            ).fetchall()
        records = [history_from_row(row) for row in rows]
        return {record.partition: record for record in records}

    def record_restore(self, record: MaterializationRecord, readers: Sequence[str]) -> list[Unit]:
        """Record `record` (a success bringing back an earlier data version) as `record`
        does, marked restored; in the same transaction, bring up to date the partitions of
        the `readers` assets that read this unit at that version and whose every input is
        current again. Return those reader units."""
        if record.status != AttemptStatus.MATERIALIZED or record.data_version is None:
            raise CatalogError(
                f"A restore of {unit_label(record.asset, record.partition)} must be a "
                f"materialization with a data version."
            )
        record = replace(record, restored=True)
        values = record_parameters(record, self._timestamp)
        action = f"record the restore of {unit_label(record.asset, record.partition)}"
        with self._transaction(action) as connection:
            seq = draw_sequences(connection, 1)
            write_attempt(connection, record, values, seq)
            connection.execute(
                "DELETE FROM leases WHERE asset = ? AND partition = ? AND run_id = ?",
                (values["asset"], values["partition"], values["run_id"]),
            )
            return _revalidate(connection, record, readers, seq)

    def _bound(
        self, connection: sqlite3.Connection, run_id: str | None, moment: datetime | None
    ) -> tuple[str, object]:
        if run_id is not None:
            (last,) = connection.execute(
                "SELECT max(id) FROM materializations WHERE run_id = ?", (run_id,)
            ).fetchone()
            if last is not None:
                return "id <= ?", last
            run = connection.execute(
                "SELECT coalesce(finished, started) FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
            if run is None:
                raise CatalogError(
                    f"There is no run {run_id} in catalog {self.path}. List the runs with "
                    f"partita runs."
                )
            return "finished <= ?", run[0]
        assert moment is not None
        return "finished <= ?", self._timestamp(moment)


def _revalidate(
    connection: sqlite3.Connection,
    record: MaterializationRecord,
    readers: Sequence[str],
    seq: int,
) -> list[Unit]:
    """Bring up to date, as of `seq`, the reader states whose inputs are all current and
    include the restored unit at its restored version."""
    restored = (record.asset, record.partition, record.data_version)
    revalidated: list[Unit] = []
    current: dict[tuple[str, str], str | None] = {}
    for reader in sorted(set(readers)):
        rows = connection.execute(
            "SELECT partition, inputs FROM partition_states WHERE asset = ? AND last_status = ?"
            " AND data_version IS NOT NULL AND consumed_seq < ?",
            (reader, AttemptStatus.MATERIALIZED, seq),
        ).fetchall()
        for partition, inputs_text in rows:
            inputs = inputs_from_json(inputs_text)
            if not any((i.asset, i.partition, i.data_version) == restored for i in inputs):
                continue
            now_current = [_current(connection, current, i.asset, i.partition) for i in inputs]
            if now_current == [i.data_version for i in inputs]:
                connection.execute(
                    "UPDATE partition_states SET consumed_seq = ?, seq = ?"
                    " WHERE asset = ? AND partition = ?",
                    (seq, seq, reader, partition),
                )
                revalidated.append((reader, partition_from_text(partition)))
    return revalidated


def _current(
    connection: sqlite3.Connection,
    cache: dict[tuple[str, str], str | None],
    asset: str,
    partition: str | None,
) -> str | None:
    key = (asset, partition_to_text(partition))
    if key not in cache:
        row = connection.execute(
            "SELECT data_version FROM partition_states WHERE asset = ? AND partition = ?", key
        ).fetchone()
        cache[key] = None if row is None else row[0]
    return cache[key]
