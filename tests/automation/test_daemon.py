"""The daemon as a real process: `partita daemon --once --now ...` (and `--tick 0.2s`).

Cron due times, eager reactions, catch-up limits, a daemon killed between recording a
tick and launching it, two daemons at once, SIGTERM mid-run. Every process started here is
stopped by its pid.
"""

from __future__ import annotations

import os
import signal
import subprocess

from conftest import PARTITA
from processes import kill_all, running, wait_for

from partita.catalog import open_catalog

PIPELINE = """
import time
from pathlib import Path

import pandas as pd
from partita import DailyPartitions, asset, eager, on_cron, on_missing

HERE = Path(__file__).parent
DAYS = DailyPartitions(start="2024-01-01", timezone="America/New_York")


@asset(partitions=DAYS, automation=on_cron("0 6 * * *", timezone="America/New_York"))
def daily(context) -> pd.DataFrame:
    hold = HERE / "hold"
    (HERE / "started").write_text(context.partition_key)
    while hold.exists():  # a test holds the run here
        time.sleep(0.05)
    version = (HERE / "version.txt").read_text() if (HERE / "version.txt").exists() else "1"
    return pd.DataFrame({"day": [context.partition_key], "v": [version]})


@asset(partitions=DAYS, automation=eager())
def derived(daily: pd.DataFrame) -> pd.DataFrame:
    return daily


@asset(partitions=DailyPartitions(start="2024-01-01"), automation=on_missing(max_catch_up=2))
def history(context) -> pd.DataFrame:
    return pd.DataFrame({"day": [context.partition_key]})
"""


def ticks(project) -> list[dict]:
    return project.cli("ticks", "--json", "--limit", "100", check=0).json()["ticks"][::-1]


def requested(tick: dict) -> list[tuple[str, str | None]]:
    return [(u["asset"], u["partition"]) for u in tick["requested"]]


def attempts(project, asset: str) -> list[str]:
    with open_catalog(project.warehouse) as catalog:
        return sorted(r.partition for r in catalog.history(asset) if r.status == "materialized")


def daemon(project, *args, env=None) -> subprocess.Popen:
    return subprocess.Popen(
        [*PARTITA, "daemon", *args],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_cron_requests_the_partitions_due_and_eager_follows_once(project):
    project.write("assets/pipeline.py", PIPELINE)
    # 05:59 in New York on 01-03: the 06:00 tick of 01-02 made 01-01 due, not 01-02 yet.
    project.cli("daemon", "daily", "derived", "--once", "--now", "2024-01-03T10:59", check=0)
    assert attempts(project, "daily") == ["2024-01-01"]
    # 06:00 EST: 01-02 is due; derived's 01-01 reacts to daily's new data (eager).
    project.cli("daemon", "daily", "derived", "--once", "--now", "2024-01-03T11:00", check=0)
    assert attempts(project, "daily") == ["2024-01-01", "2024-01-02"]
    assert attempts(project, "derived") == ["2024-01-01"]
    # The next tick: derived's new partition 01-02 appeared and its upstream is new data.
    project.cli("daemon", "daily", "derived", "--once", "--now", "2024-01-03T11:01", check=0)
    project.cli("daemon", "daily", "derived", "--once", "--now", "2024-01-03T11:02", check=0)
    assert attempts(project, "derived") == ["2024-01-01", "2024-01-02"]
    first, second, third, fourth = ticks(project)
    assert requested(first) == [("daily", "2024-01-01")]
    assert requested(second) == [("daily", "2024-01-02"), ("derived", "2024-01-01")]
    assert second["requested"][1]["why"] == "eager"
    assert requested(third) == [("derived", "2024-01-02")]
    assert requested(fourth) == [] and fourth["run_ids"] == []
    assert len(second["run_ids"]) == 1  # one run per tick, whatever it requested


def test_cron_due_times_follow_the_schedule_zone_across_dst(project):
    project.write("assets/pipeline.py", PIPELINE)
    # DST starts 2024-03-10 in New York: 06:00 local is 11:00 UTC before, 10:00 after.
    project.cli("daemon", "daily", "--once", "--now", "2024-03-10T09:59", check=0)
    project.cli("daemon", "daily", "--once", "--now", "2024-03-10T10:00", check=0)
    before, after = ticks(project)
    assert ("daily", "2024-03-08") in requested(before)
    assert ("daily", "2024-03-09") not in requested(before)
    assert requested(after) == [("daily", "2024-03-09")]


def test_catch_up_limit_takes_the_newest_first_and_the_rest_later(project):
    project.write("assets/pipeline.py", PIPELINE)
    for minute in range(3):
        project.cli("daemon", "history", "--once", "--now", f"2024-01-06T00:0{minute}", check=0)
    assert [requested(t) for t in ticks(project)] == [
        [("history", "2024-01-04"), ("history", "2024-01-05")],
        [("history", "2024-01-02"), ("history", "2024-01-03")],
        [("history", "2024-01-01")],
    ]


def test_a_daemon_killed_between_recording_and_launching_loses_and_repeats_nothing(project):
    project.write("assets/pipeline.py", PIPELINE)
    killed = project.cli(
        "daemon",
        "history",
        "--once",
        "--now",
        "2024-01-03T00:00",
        env={"PARTITA_FAULT": "daemon-launch"},
    )
    assert killed.exit_code == -signal.SIGKILL
    (recorded,) = ticks(project)
    assert recorded["status"] == "requested" and recorded["run_ids"] == []
    assert attempts(project, "history") == []

    resumed = project.cli("daemon", "history", "--once", "--now", "2024-01-03T00:00", check=0)

    assert "resuming" in resumed.stdout
    first, second = ticks(project)
    assert first["status"] == "finished" and len(first["run_ids"]) == 1
    assert requested(second) == []  # its units were in flight or done: not requested again
    assert attempts(project, "history") == ["2024-01-01", "2024-01-02"]  # once each
    with open_catalog(project.warehouse) as catalog:
        assert [r.command for r in catalog.runs()] == ["partita daemon (tick 1)"]


def test_two_daemons_never_both_run(project):
    project.write("assets/pipeline.py", PIPELINE)
    first = daemon(project, "history", "--tick", "0.2s", "--now", "2024-01-03T00:00")
    try:
        wait_for(lambda: len(ticks(project)) >= 2, what="the first daemon's ticks")
        second = project.cli("daemon", "history", "--once", "--now", "2024-01-03T00:00")
        assert second.exit_code == 1
        assert f"another partita daemon (pid {first.pid}" in second.stderr
        assert all(t["tick_id"] for t in ticks(project))
        first.send_signal(signal.SIGTERM)
        assert first.wait(60) == 0
        assert "daemon stopped" in first.stdout.read()
        # Stopped cleanly: the lease is free for the next daemon.
        project.cli("daemon", "history", "--once", "--now", "2024-01-03T00:00", check=0)
    finally:
        kill_all([first.pid])
    assert attempts(project, "history") == ["2024-01-01", "2024-01-02"]


def test_sigterm_mid_run_stops_cleanly_and_a_restart_resumes_the_tick(project):
    project.write("assets/pipeline.py", PIPELINE)
    hold = project.root / "assets" / "hold"
    hold.write_text("")
    running_daemon = daemon(project, "daily", "--tick", "0.2s", "--now", "2024-01-02T12:00")
    try:
        wait_for((project.root / "assets" / "started").exists, what="the run to start")
        (tick,) = [t for t in ticks(project) if t["requested"]]
        with open_catalog(project.warehouse) as catalog:
            (opened,) = catalog.open_ticks()
        run_pid = opened.launcher.pid
        assert running(run_pid)
        running_daemon.send_signal(signal.SIGTERM)
        assert running_daemon.wait(60) == 0
        assert not running(run_pid)  # the run process was stopped with it
    finally:
        kill_all([running_daemon.pid])
    with open_catalog(project.warehouse) as catalog:
        assert [r.status for r in catalog.runs()] == ["interrupted"]
        (requeued,) = catalog.open_ticks()
    assert requeued.tick_id == tick["tick_id"] and requeued.status == "requested"
    hold.unlink()

    project.cli("daemon", "daily", "--once", "--now", "2024-01-02T12:00", check=0)

    assert attempts(project, "daily") == ["2024-01-01"]
    finished = next(t for t in ticks(project) if t["tick_id"] == tick["tick_id"])
    assert finished["status"] == "finished" and len(finished["run_ids"]) == 2


def test_a_backfill_triggers_eager_downstream_once_in_one_request(project):
    project.write("assets/pipeline.py", PIPELINE)
    now = ("--now", "2024-01-05T12:00")
    project.cli("daemon", "derived", "--once", *now, check=0)  # nothing to react to yet
    project.cli("backfill", "daily", "--from", "2024-01-01", "--to", "2024-01-03", *now, check=0)

    project.cli("daemon", "derived", "--once", *now, check=0)
    project.cli("daemon", "derived", "--once", *now, check=0)

    idle, reacted, settled = ticks(project)
    assert requested(idle) == []
    assert requested(reacted) == [("derived", f"2024-01-0{day}") for day in (1, 2, 3)]
    assert len(reacted["run_ids"]) == 1  # one run for the whole backfill
    assert requested(settled) == []
    assert attempts(project, "derived") == ["2024-01-01", "2024-01-02", "2024-01-03"]


def test_eager_waits_for_the_inputs_of_a_partition_that_appeared_before_they_exist(project):
    project.write("assets/pipeline.py", PIPELINE)
    for now in ("2024-01-03T11:00", "2024-01-03T11:01"):  # 01-01 and 01-02 of both
        project.cli("daemon", "daily", "derived", "--once", "--now", now, check=0)
    # 00:01 in New York on 01-04: derived's 01-03 appeared, but daily's 01-03 comes at 06:00.
    project.cli("daemon", "daily", "derived", "--once", "--now", "2024-01-04T05:01", check=0)
    assert requested(ticks(project)[-1]) == []
    for now in ("2024-01-04T11:00", "2024-01-04T11:01"):
        project.cli("daemon", "daily", "derived", "--once", "--now", now, check=0)
    assert [requested(t) for t in ticks(project)[-2:]] == [
        [("daily", "2024-01-03")],
        [("derived", "2024-01-03")],
    ]
    with open_catalog(project.warehouse) as catalog:
        statuses = [(r.partition, r.status) for r in catalog.history("derived")]
    assert sorted(statuses) == [(f"2024-01-0{day}", "materialized") for day in (1, 2, 3)]


def test_assets_without_automation_are_never_launched(project):
    project.write("assets/pipeline.py", PIPELINE)
    project.write(
        "assets/manual.py",
        "import pandas as pd\nfrom partita import DailyPartitions, asset\n\n\n"
        '@asset(partitions=DailyPartitions(start="2024-01-01"))\n'
        "def manual(daily: pd.DataFrame) -> pd.DataFrame:\n    return daily\n",
    )
    project.cli("daemon", "--once", "--now", "2024-01-03T11:00", check=0)
    project.cli("daemon", "--once", "--now", "2024-01-03T11:01", check=0)
    assert attempts(project, "daily") == ["2024-01-01", "2024-01-02"]  # the daemon ran
    assert attempts(project, "manual") == []  # missing and reading new data, yet never run
    assert all(u["asset"] != "manual" for tick in ticks(project) for u in tick["requested"])
