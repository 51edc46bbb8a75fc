"""No overlapping work: units are leased in the catalog, so two `partita materialize`
processes never run the same unit; a held unit is waited for or reported `locked`, and a
lease whose process died is taken over."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from partita.catalog import LeaseHolder
from partita.catalog.sqlite import SQLiteCatalog
from partita.processes import ProcessIdentity

from . import CATALOG, catalog_rows, leased_units

NOW = "2024-01-31T00:00:00+00:00"  # 30 complete daily partitions: 2024-01-01 .. 2024-01-30
DAYS = [f"2024-01-{day:02d}" for day in range(1, 31)]

ASSETS = """
import os
import pathlib
import time

import pyarrow as pa
from partita import DailyPartitions, asset

ROOT = pathlib.Path(__file__).parent.parent


@asset(partitions=DailyPartitions(start="2024-01-01"))
def work(context):
    with open(ROOT / "work.log", "a") as log:
        log.write(f"{os.getpid()} {context.partition_key}\\n")
    if context.partition_key == "2024-01-01" and (ROOT / "hold").exists():
        (ROOT / "holding").write_text(str(os.getpid()))
        while not (ROOT / "release").exists():
            time.sleep(0.02)
    time.sleep(0.1)
    return pa.table({"day": [context.partition_key]})
"""


def start(project, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "partita", "materialize", "--now", NOW, "--json", *args],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def finish(process: subprocess.Popen, exit_code: int = 0) -> dict:
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == exit_code, (stdout, stderr)
    return json.loads(stdout)


def wait_for(predicate, what: str) -> None:
    """Poll until `predicate()` holds (a guard against hanging, not a timing check)."""
    deadline = time.monotonic() + 60
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def log_lines(project) -> list[tuple[int, str]]:
    path = project.root / "work.log"
    if not path.exists():
        return []
    return [
        (int(pid), day)
        for pid, day in (line.split() for line in path.read_text().split("\n") if line)
    ]


def by_status(report: dict) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for result in report["results"]:
        found.setdefault(result["status"], set()).add(result["partition"])
    return found


def test_two_runs_over_the_same_30_partitions_run_each_unit_once(project) -> None:
    project.write("assets/work.py", ASSETS)
    first = start(project)
    second = start(project, "--order", "newest-first")  # the same 30, from the other end
    one, two = finish(first), finish(second)

    ran = Counter(day for _, day in log_lines(project))
    assert ran == Counter(DAYS)  # every unit exactly once across both processes
    assert {pid for pid, _ in log_lines(project)} <= {first.pid, second.pid}
    done_by_one = by_status(one).get("materialized", set())
    done_by_two = by_status(two).get("materialized", set())
    assert done_by_one and done_by_two, "the two runs did not overlap"
    assert not done_by_one & done_by_two
    assert done_by_one | done_by_two == set(DAYS)
    # What a run did not do itself, it waited for and found up to date.
    assert by_status(one).get("up_to_date", set()) == set(DAYS) - done_by_one
    assert by_status(two).get("up_to_date", set()) == set(DAYS) - done_by_two
    assert {pid for pid, day in log_lines(project) if day in done_by_two} <= {second.pid}
    assert leased_units(project.root) == set()


def hold_first_day(project) -> tuple[subprocess.Popen, str]:
    """Start a run that leases 2024-01-01 and stays inside it until released."""
    project.write("assets/work.py", ASSETS)
    (project.root / "hold").touch()
    holder = start(project, "--partition", "2024-01-01")
    wait_for(lambda: (project.root / "holding").exists(), "the first run to start its unit")
    run_id = [run for (run,) in catalog_rows_of(project, "SELECT run_id FROM leases")]
    assert len(run_id) == 1
    return holder, run_id[0]


def catalog_rows_of(project, sql: str) -> list[tuple]:
    return catalog_rows(project.root, sql)


def test_no_wait_reports_a_unit_another_run_holds_as_locked(project) -> None:
    holder, holder_run = hold_first_day(project)
    try:
        report = finish(
            start(project, "--from", "2024-01-01", "--to", "2024-01-03", "--no-wait"), 0
        )
    finally:
        (project.root / "release").touch()
    held = finish(holder)

    locked = [r for r in report["results"] if r["status"] == "locked"]
    assert [r["partition"] for r in locked] == ["2024-01-01"]
    assert f"locked by run {holder_run}" in locked[0]["reason"]
    assert f"pid {holder.pid}" in locked[0]["reason"]
    assert report["counts"]["locked"] == 1
    assert by_status(report)["materialized"] == {"2024-01-02", "2024-01-03"}
    assert by_status(held)["materialized"] == {"2024-01-01"}
    assert sorted(day for _, day in log_lines(project)) == DAYS[:3]


def test_a_waiting_run_finds_the_held_unit_up_to_date(project) -> None:
    holder, _ = hold_first_day(project)
    waiting = start(project, "--from", "2024-01-01", "--to", "2024-01-03")
    try:
        # The waiting run does what is free while the held unit is still running.
        wait_for(
            lambda: (
                {d for p, d in log_lines(project) if p == waiting.pid}
                == {"2024-01-02", "2024-01-03"}
            ),
            "the second run to do the free units",
        )
    finally:
        (project.root / "release").touch()
    held, report = finish(holder), finish(waiting)

    assert by_status(held)["materialized"] == {"2024-01-01"}
    assert by_status(report) == {
        "materialized": {"2024-01-02", "2024-01-03"},
        "up_to_date": {"2024-01-01"},
    }
    assert Counter(day for _, day in log_lines(project)) == Counter(DAYS[:3])


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_lease_of_a_dead_process_is_taken_over(project) -> None:
    project.write("assets/work.py", ASSETS)
    # A run that leased 2024-01-01 and died: its process leased the unit, then exited.
    script = (
        "import sys; from datetime import UTC, datetime; from pathlib import Path;"
        "from partita.catalog.sqlite import SQLiteCatalog;"
        "c = SQLiteCatalog(Path(sys.argv[1]));"
        "run = c.start_run('materialize', datetime.now(UTC));"
        "assert c.acquire_lease('work', '2024-01-01', run, datetime.now(UTC), 30.0) is None;"
        "print(run)"
    )
    dead = subprocess.run(
        [sys.executable, "-c", script, str(project.root / CATALOG)],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_run = dead.stdout.strip()
    assert catalog_rows_of(project, "SELECT run_id FROM leases") == [(dead_run,)]

    taker = start(project, "--partition", "2024-01-01", "--no-wait")
    report = finish(taker)
    assert by_status(report) == {"materialized": {"2024-01-01"}}
    assert log_lines(project) == [(taker.pid, "2024-01-01")]
    assert leased_units(project.root) == set()
    status = catalog_rows_of(project, f"SELECT status FROM runs WHERE run_id = '{dead_run}'")
    assert status == [("interrupted",)]


def test_a_lease_of_another_host_holds_until_its_heartbeat_is_stale(tmp_path) -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    remote = ProcessIdentity("another-host.example", 4242)
    path = tmp_path / "catalog.db"
    with SQLiteCatalog(path, process=remote) as elsewhere, SQLiteCatalog(path) as catalog:
        assert elsewhere.acquire_lease("work", "a", "run-1", moment, 30.0) is None
        holder = catalog.acquire_lease("work", "a", "run-2", moment + timedelta(seconds=29), 30.0)
        assert holder is not None and holder.run_id == "run-1" and holder.pid == 4242
        elsewhere.heartbeat("run-1", moment + timedelta(seconds=20))
        assert catalog.acquire_lease("work", "a", "run-2", moment + timedelta(seconds=45), 30.0)
        # No heartbeat for over 30 s: the silent holder on another machine loses the unit.
        assert (
            catalog.acquire_lease("work", "a", "run-2", moment + timedelta(seconds=51), 30.0)
            is None
        )
        assert catalog.acquire_lease("work", "a", "run-1", moment + timedelta(seconds=52), 30.0)


def test_a_live_process_of_this_host_keeps_its_lease_however_old_its_heartbeat(tmp_path) -> None:
    """Issue 17.3: an asset holding the GIL (or a VM pause, a clock jump) stops the heartbeat;
    the holder's process is alive, so another run must not take the unit over."""
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    with SQLiteCatalog(tmp_path / "catalog.db") as catalog:
        assert catalog.acquire_lease("work", "a", "run-1", moment, 30.0) is None

        later = moment + timedelta(minutes=10)
        holder = catalog.acquire_lease("work", "a", "run-2", later, 30.0)

        assert holder is not None and (holder.run_id, holder.pid) == ("run-1", os.getpid())
        assert catalog.interrupt_dead_leases(later) == []
        assert catalog.history() == []  # the live run's unit is not recorded as interrupted


def test_a_reused_pid_does_not_keep_a_dead_run_s_lease(tmp_path) -> None:
    """The lease's pid is alive, but it is another process now (another start time): the
    run that leased the unit is gone, and the lease is taken over."""
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    me = ProcessIdentity.current()
    assert me.start_time is not None
    gone = ProcessIdentity(me.host, me.pid, me.start_time - 1, me.boot)
    path = tmp_path / "catalog.db"
    with SQLiteCatalog(path, process=gone) as dead_run, SQLiteCatalog(path) as catalog:
        assert dead_run.acquire_lease("work", "a", "run-1", moment, 30.0) is None

        assert catalog.acquire_lease("work", "a", "run-2", moment, 30.0) is None

        assert catalog.lease_holder("work", "a") == LeaseHolder("run-2", os.getpid())
        assert [r.status for r in catalog.history("work", "a")] == ["interrupted"]


def test_a_dead_pid_loses_its_lease_at_once(tmp_path) -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    gone = ProcessIdentity(ProcessIdentity.current().host, dead_pid())
    path = tmp_path / "catalog.db"
    with SQLiteCatalog(path, process=gone) as dead_run, SQLiteCatalog(path) as catalog:
        assert dead_run.acquire_lease("work", "a", "run-1", moment, 30.0) is None

        assert catalog.acquire_lease("work", "a", "run-2", moment, 30.0) is None
        assert catalog.lease_holder("work", "a") == LeaseHolder("run-2", os.getpid())
