"""The PostgreSQL catalog: the SQLite catalog's queries on a PostgreSQL connection, with
leases timed by the server's clock.

Every machine of a cluster shares one catalog, but their clocks may differ: a heartbeat
written by one machine's clock and judged stale by another's would hand a live run's unit
to a second run. With `server_clock` (the default) every lease time is the database
server's `clock_timestamp()`, whatever time the caller passes: unit leases, the daemon
lease and pool slots alike.
"""

from __future__ import annotations

from datetime import datetime

from partita.catalog.automation_records import Holder
from partita.catalog.postgres.connection import PostgresConnection
from partita.catalog.records import DeadLease, LeaseHolder
from partita.catalog.sqlite.store import SQLiteCatalog
from partita.processes import ProcessIdentity


class PostgresCatalog(PostgresConnection, SQLiteCatalog):
    """Runs, history, states and leases in a PostgreSQL database (or one schema of it).

    `url` is a libpq URL (`postgresql://USER@HOST:PORT/DB`); the password may come from it,
    the PG* environment variables or ~/.pgpass, and is never shown. `process` is whose
    leases it takes (this process by default).
    """

    def __init__(
        self, url: str, process: ProcessIdentity | None = None, server_clock: bool = True
    ) -> None:
        self._process = process
        self._server_clock = server_clock
        PostgresConnection.__init__(self, url)

    def _lease_time(self, now: datetime) -> datetime:
        self._timestamp(now)  # a naive time is refused either way
        return self.server_now() if self._server_clock else now

    def acquire_lease(
        self, asset: str, partition: str | None, run_id: str, now: datetime, stale_after: float
    ) -> LeaseHolder | None:
        return super().acquire_lease(asset, partition, run_id, self._lease_time(now), stale_after)

    def heartbeat(self, run_id: str, now: datetime) -> None:
        super().heartbeat(run_id, self._lease_time(now))

    def dead_leases(self, now: datetime, stale_after: float = 30.0) -> list[DeadLease]:
        return super().dead_leases(self._lease_time(now), stale_after)

    def interrupt_dead_leases(
        self, now: datetime, stale_after: float = 30.0
    ) -> list[tuple[str, str | None]]:
        return super().interrupt_dead_leases(self._lease_time(now), stale_after)

    def acquire_daemon_lease(
        self, holder: Holder, now: datetime, stale_after: float
    ) -> Holder | None:
        return super().acquire_daemon_lease(holder, self._lease_time(now), stale_after)

    def acquire_pool_slot(
        self,
        pool: str,
        size: int,
        unit: tuple[str, str | None],
        run_id: str,
        holder: Holder,
        now: datetime,
        stale_after: float,
    ) -> bool:
        return super().acquire_pool_slot(
            pool, size, unit, run_id, holder, self._lease_time(now), stale_after
        )
