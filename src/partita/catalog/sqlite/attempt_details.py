"""The attempt-details role of the SQLite catalog: one partition's attempts, each with the
check results it recorded (not only the latest attempt's), for a partition page."""

from __future__ import annotations

from dataclasses import replace

from partita.catalog.records import CheckResult, MaterializationRecord
from partita.catalog.sqlite.connection import SQLiteConnection
from partita.catalog.sqlite.rows import (
    HISTORY_COLUMNS,
    history_from_row,
    partition_to_text,
    sql_limit,
)

_ATTEMPTS = f"""
SELECT id, {HISTORY_COLUMNS} FROM materializations
WHERE asset = ? AND partition = ? ORDER BY id DESC LIMIT ?
"""

# The checks of the unit's attempts from the oldest one listed on.
_CHECKS = """
SELECT c.materialization_id, c.name, c.severity, c.passed, c.message
FROM check_results c JOIN materializations m ON m.id = c.materialization_id
WHERE m.asset = ? AND m.partition = ? AND m.id >= ?
ORDER BY c.materialization_id, c.name
"""


class SQLiteAttemptDetails(SQLiteConnection):
    """Reads one partition's attempts with their checks."""

    def partition_attempts(
        self, asset: str, partition: str | None, limit: int | None = None
    ) -> list[MaterializationRecord]:
        """The attempts of (asset, partition), newest first, each with its `checks`."""
        key = partition_to_text(partition)
        with self._read_transaction(f"read the attempts of {asset}") as connection:
            rows = connection.execute(_ATTEMPTS, (asset, key, sql_limit(limit))).fetchall()
            if not rows:
                return []
            oldest = min(row[0] for row in rows)
            checks: dict[int, list[CheckResult]] = {}
            for attempt_id, name, severity, passed, message in connection.execute(
                _CHECKS, (asset, key, oldest)
            ).fetchall():
                checks.setdefault(attempt_id, []).append(
                    CheckResult(name, severity, bool(passed), message)
                )
        return [
            replace(history_from_row(row[1:]), checks=tuple(checks.get(row[0], ()))) for row in rows
        ]
