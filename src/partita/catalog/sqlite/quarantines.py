"""The quarantine role of the SQLite catalog: one row per unit, replaced by each successful
attempt of an asset with quarantine checks."""

from __future__ import annotations

import json
from datetime import datetime

from partita.catalog.records import QuarantineRecord
from partita.catalog.sqlite.connection import SQLiteConnection
from partita.catalog.sqlite.rows import partition_from_text, partition_to_text

_COLUMNS = "asset, partition, run_id, rows, total_rows, checks, location, recorded_at"

_UPSERT = f"""
INSERT INTO quarantines ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (asset, partition) DO UPDATE SET
    run_id = excluded.run_id,
    rows = excluded.rows,
    total_rows = excluded.total_rows,
    checks = excluded.checks,
    location = excluded.location,
    recorded_at = excluded.recorded_at
"""


class SQLiteQuarantines(SQLiteConnection):
    """Records and lists quarantined rows per unit."""

    def record_quarantine(self, record: QuarantineRecord) -> None:
        """Record (or replace) the quarantine of the record's unit."""
        values = (
            record.asset,
            partition_to_text(record.partition),
            record.run_id,
            record.rows,
            record.total_rows,
            json.dumps(list(record.checks)),
            record.location,
            self._timestamp(record.recorded_at),
        )
        with self._transaction(f"record the quarantine of {record.asset}") as connection:
            connection.execute(_UPSERT, values)

    def quarantines(self, asset: str | None = None) -> list[QuarantineRecord]:
        """The current quarantine records, of one asset or all, by asset and partition."""
        query = f"SELECT {_COLUMNS} FROM quarantines"
        parameters: tuple[str, ...] = ()
        if asset is not None:
            query += " WHERE asset = ?"
            parameters = (asset,)
        with self._reading("read the quarantines") as connection:
            rows = connection.execute(query + " ORDER BY asset, partition", parameters)
            return [
                QuarantineRecord(
                    asset=name,
                    partition=partition_from_text(partition),
                    run_id=run_id,
                    rows=rows_,
                    total_rows=total,
                    checks=tuple(json.loads(checks)),
                    location=location,
                    recorded_at=datetime.fromisoformat(recorded),
                )
                for name, partition, run_id, rows_, total, checks, location, recorded in rows
            ]
