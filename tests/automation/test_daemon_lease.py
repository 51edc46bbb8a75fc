"""The daemon lease through real daemons: its heartbeat is refreshed in the background
whatever the tick length, and a second daemon with `--wait` waits for the lease, takes it
when the first stops, and stops cleanly if told to while waiting."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from conftest import PARTITA
from processes import kill_all, wait_for

from partita.catalog import open_catalog

ASSET = """
import pandas as pd
from partita import asset


@asset
def plain() -> pd.DataFrame:
    return pd.DataFrame({"x": [1]})
"""
NOW = ("--now", "2024-01-03T00:00")


def start(project, name: str, *args: str) -> tuple[subprocess.Popen, Path]:
    output = project.root / f"{name}.log"  # a file, not a pipe nobody reads, which could fill
    with output.open("w") as log:
        process = subprocess.Popen(
            [*PARTITA, "daemon", *args, *NOW],
            cwd=project.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
        )
    return process, output


def lease(project):
    with open_catalog(project.warehouse) as catalog:
        return catalog.daemon_lease()


def held_by(project, process: subprocess.Popen) -> bool:
    current = lease(project)
    return current is not None and current.holder.pid == process.pid


def test_a_long_tick_keeps_the_lease_fresh(project):
    project.write("assets/plain.py", ASSET)
    daemon, output = start(project, "daemon", "--tick", "600s")
    try:
        wait_for(lambda: held_by(project, daemon), what="the daemon's lease")
        first = lease(project).heartbeat
        # One tick ran; the next is 10 minutes away, and the lease is refreshed meanwhile.
        wait_for(lambda: lease(project).heartbeat > first, what="a heartbeat between ticks")
        assert "tick 2" not in output.read_text()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(60) == 0, output.read_text()
    finally:
        kill_all([daemon.pid])
    assert lease(project) is None  # released on the way out


def test_a_second_daemon_with_wait_takes_over_when_the_first_stops(project):
    project.write("assets/plain.py", ASSET)
    first, _ = start(project, "first", "--tick", "0.2s")
    processes = [first]
    try:
        wait_for(lambda: held_by(project, first), what="the first daemon's lease")
        second, second_output = start(project, "second", "--tick", "0.2s", "--wait")
        processes.append(second)
        waiting = f"waiting for the daemon lease: another partita daemon (pid {first.pid}"
        wait_for(lambda: waiting in second_output.read_text(), what="the second one waiting")
        assert second.poll() is None and held_by(project, first)

        # A third one told to stop while it waits exits 0 and leaves the lease alone.
        third, third_output = start(project, "third", "--tick", "0.2s", "--wait")
        processes.append(third)
        wait_for(lambda: "waiting for" in third_output.read_text(), what="the third waiting")
        third.send_signal(signal.SIGTERM)
        assert third.wait(60) == 0
        assert "daemon stopped before it got the lease" in third_output.read_text()

        first.send_signal(signal.SIGTERM)
        assert first.wait(60) == 0
        wait_for(lambda: held_by(project, second), what="the second daemon taking over")
        ticks_before = len(
            project.cli("ticks", "--json", "--limit", "1000", check=0).json()["ticks"]
        )
        wait_for(
            lambda: (
                len(project.cli("ticks", "--json", "--limit", "1000").json()["ticks"])
                > ticks_before
            ),
            what="the second daemon ticking",
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0, second_output.read_text()
    finally:
        kill_all([p.pid for p in processes])
    assert lease(project) is None
