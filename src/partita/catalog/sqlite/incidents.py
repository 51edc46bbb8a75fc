"""Alert incidents and their notifications in the SQLite catalog.

At most one incident per key is open: a partial unique index on the key of rows not yet
resolved, so opening is one `INSERT ... ON CONFLICT DO NOTHING` that two runs can race.
A partition is stored as given (NULL when there is none): incidents are never joined with
the partition states.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from partita.catalog.records import IncidentRecord, NotificationRecord
from partita.catalog.sqlite.connection import SQLiteConnection
from partita.catalog.sqlite.rows import sql_limit

_INCIDENT_COLUMNS = (
    "id, incident_key, rule, kind, asset, partition, run_id, opened, message, resolved"
)
_NOTIFICATION_COLUMNS = "incident_id, event, channel, sent, delivered, attempts, error"

_OPEN = f"""
INSERT INTO incidents (incident_key, rule, kind, asset, partition, run_id, opened, message)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (incident_key) WHERE resolved IS NULL DO NOTHING
RETURNING {_INCIDENT_COLUMNS}
"""

_RESOLVE = f"""
UPDATE incidents SET resolved = ? WHERE incident_key = ? AND resolved IS NULL
RETURNING {_INCIDENT_COLUMNS}
"""


class SQLiteIncidents(SQLiteConnection):
    """The incident role of the SQLite catalog (alerts)."""

    def open_incident(
        self,
        key: str,
        *,
        rule: str,
        kind: str,
        asset: str | None,
        partition: str | None,
        run_id: str | None,
        opened: datetime,
        message: str,
    ) -> IncidentRecord | None:
        """Open an incident for `key` unless one is open; return it, or None."""
        parameters = (key, rule, kind, asset, partition, run_id, self._timestamp(opened), message)
        with self._transaction(f"open an incident for {key!r}") as connection:
            row = connection.execute(_OPEN, parameters).fetchone()
        return None if row is None else _incident(row, ())

    def resolve_incident(self, key: str, resolved: datetime) -> IncidentRecord | None:
        """Resolve the open incident of `key`; return it, or None when none is open."""
        with self._transaction(f"resolve the incident {key!r}") as connection:
            row = connection.execute(_RESOLVE, (self._timestamp(resolved), key)).fetchone()
            if row is None:
                return None
            notifications = _notifications(connection, [row[0]]).get(row[0], ())
        return _incident(row, notifications)

    def open_incidents(self) -> list[IncidentRecord]:
        """Every incident not resolved yet, oldest first."""
        return self._incidents(
            "WHERE resolved IS NULL ORDER BY opened, id", (), "list open incidents"
        )

    def record_notification(self, incident_id: int, notification: NotificationRecord) -> None:
        """Append a notification about an incident."""
        with self._transaction(f"record a notification of incident {incident_id}") as connection:
            connection.execute(
                f"INSERT INTO notifications ({_NOTIFICATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    incident_id,
                    notification.event,
                    notification.channel,
                    self._timestamp(notification.sent),
                    int(notification.delivered),
                    notification.attempts,
                    notification.error,
                ),
            )

    def incidents(self, limit: int | None = None) -> list[IncidentRecord]:
        """Incidents with their notifications, the most recently opened first."""
        return self._incidents(
            "ORDER BY opened DESC, id DESC LIMIT ?", (sql_limit(limit),), "list incidents"
        )

    def _incidents(self, clause: str, parameters: tuple, action: str) -> list[IncidentRecord]:
        with self._read_transaction(action) as connection:
            rows = connection.execute(
                f"SELECT {_INCIDENT_COLUMNS} FROM incidents {clause}", parameters
            ).fetchall()
            notifications = _notifications(connection, [row[0] for row in rows])
        return [_incident(row, notifications.get(row[0], ())) for row in rows]


def _notifications(
    connection: sqlite3.Connection, incident_ids: Sequence[int]
) -> dict[int, tuple[NotificationRecord, ...]]:
    found: dict[int, list[NotificationRecord]] = {}
    for start in range(0, len(incident_ids), 500):
        chunk = list(incident_ids[start : start + 500])
        marks = ", ".join("?" * len(chunk))
        rows = connection.execute(
            f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications"
            f" WHERE incident_id IN ({marks}) ORDER BY sent, id",
            chunk,
        ).fetchall()
        for incident_id, event, channel, sent, delivered, attempts, error in rows:
            found.setdefault(incident_id, []).append(
                NotificationRecord(
                    event, channel, datetime.fromisoformat(sent), bool(delivered), attempts, error
                )
            )
    return {key: tuple(value) for key, value in found.items()}


def _incident(row: tuple, notifications: tuple[NotificationRecord, ...]) -> IncidentRecord:
    incident_id, key, rule, kind, asset, partition, run_id, opened, message, resolved = row
    return IncidentRecord(
        incident_id=incident_id,
        key=key,
        rule=rule,
        kind=kind,
        asset=asset,
        partition=partition,
        run_id=run_id,
        opened=datetime.fromisoformat(opened),
        message=message,
        resolved=None if resolved is None else datetime.fromisoformat(resolved),
        notifications=notifications,
    )
