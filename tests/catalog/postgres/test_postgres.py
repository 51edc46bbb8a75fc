"""What the PostgreSQL catalog adds to the contract suite: leases on the server's clock,
the SQL dialect adapter, and coordinators on several processes writing at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

import pytest
from servers.workload import NOW, write_project

from partita.catalog import LeaseHolder, open_catalog
from partita.catalog.automation_records import Holder
from partita.catalog.postgres import PostgresCatalog
from partita.catalog.postgres.connection import translate
from partita.errors import CatalogError
from partita.processes import ProcessIdentity

T0 = datetime(2013, 1, 1, tzinfo=UTC)
ELSEWHERE = ProcessIdentity("another-host.example", 4242)


def test_leases_are_timed_by_the_servers_clock_not_the_callers(postgres_server) -> None:
    url = postgres_server.new_schema()
    with PostgresCatalog(url, process=ELSEWHERE) as remote, PostgresCatalog(url) as local:
        # The remote machine's clock says 2013; the heartbeat is still the server's now.
        assert remote.acquire_lease("flights", "2013-01-01", "run-1", T0, 30.0) is None
        # This machine's clock runs an hour ahead: the lease is fresh all the same.
        ahead = datetime(2013, 1, 1, 1, tzinfo=UTC)
        held = local.acquire_lease("flights", "2013-01-01", "run-2", ahead, 30.0)
        assert held == LeaseHolder("run-1", ELSEWHERE.pid)
        assert local.dead_leases(ahead) == []
        with local._reading("read") as connection:
            (heartbeat,) = connection.execute("SELECT heartbeat FROM leases").fetchone()
        assert datetime.fromisoformat(heartbeat).year > 2020  # the server's, not 2013
        with pytest.raises(CatalogError, match="has no time zone"):
            local.heartbeat("run-2", datetime(2013, 1, 1))


def test_the_daemon_lease_and_pool_slots_are_timed_by_the_servers_clock(postgres_server) -> None:
    url = postgres_server.new_schema()
    remote_holder = Holder(ELSEWHERE.host, ELSEWHERE.pid)
    local_holder = Holder("this-host.example", 99)
    ahead = datetime(2013, 1, 1, 1, tzinfo=UTC)  # an hour after the remote machine's clock
    with PostgresCatalog(url, process=ELSEWHERE) as remote, PostgresCatalog(url) as local:
        assert remote.acquire_daemon_lease(remote_holder, T0, 30.0) is None
        # By the callers' clocks the remote daemon has been silent for an hour; by the
        # server's it just beat: its lease stays its own.
        assert local.acquire_daemon_lease(local_holder, ahead, 30.0) == remote_holder
        unit = ("flights", "2013-01-01")
        assert remote.acquire_pool_slot("db", 1, unit, "run-1", remote_holder, T0, 30.0)
        other = ("flights", "2013-01-02")
        assert not local.acquire_pool_slot("db", 1, other, "run-2", local_holder, ahead, 30.0)
        assert [slot.run_id for slot in local.pool_slots("db")] == ["run-1"]
        with local._reading("read") as connection:
            beats = connection.execute(
                "SELECT heartbeat FROM daemon_lease UNION ALL SELECT heartbeat FROM pool_slots"
            ).fetchall()
        assert len(beats) == 2
        assert all(datetime.fromisoformat(beat).year > 2020 for (beat,) in beats)


def test_sqlite_placeholders_become_psycopg_ones_outside_literals() -> None:
    sql = "SELECT ?, :name, '?:kept''s', x::text, a % 2 FROM t WHERE b = :b"
    expected = "SELECT %s, %(name)s, '?:kept''s', x::text, a %% 2 FROM t WHERE b = %(b)s"
    assert translate(sql) == expected


def test_coordinators_in_several_processes_run_each_unit_once(tmp_path, postgres_server) -> None:
    """Three runs of the same backfill at once on one PostgreSQL catalog: no unit is run
    twice, none is missed, and the sequences are unique."""
    project = write_project(tmp_path / "project")
    url = postgres_server.new_schema()
    env = {**os.environ, "PARTITA_CATALOG": url}
    command = [
        sys.executable, "-m", "partita", "backfill", "+summary",
        "--from", "2024-01-01", "--to", "2024-01-10", "--now", NOW, "--json",
    ]  # fmt: skip
    # One of them with a pool of worker processes, which check leases in the same catalog.
    runs = [
        subprocess.Popen(command + extra, cwd=project, env=env, stdout=subprocess.PIPE, text=True)
        for extra in ([], [], ["--workers", "2"])
    ]
    reports = [json.loads(run.communicate(timeout=300)[0]) for run in runs]

    assert [run.returncode for run in runs] == [0, 0, 0]
    materialized = Counter(
        (r["asset"], r["partition"])
        for report in reports
        for r in report["results"]
        if r["status"] == "materialized"
    )
    assert len(materialized) == 30 and set(materialized.values()) == {1}
    with open_catalog(project, url) as catalog:
        history = catalog.history()
        assert len(history) == 30 and {h.status for h in history} == {"materialized"}
        states = [s for states in catalog.all_states().values() for s in states.values()]
        assert sorted(s.seq for s in states) == list(range(1, 31))
