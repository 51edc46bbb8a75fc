"""The process pool through real runs: spawned workers that load the project themselves, a
worker crash that fails only its unit (issue 17, point 5), and worker deaths retried."""

from __future__ import annotations

from datetime import UTC, datetime

CRASHING = """
import os
import signal
import time
from pathlib import Path

import pyarrow as pa
from partita import DailyPartitions, Retry, asset

HERE = Path(__file__).parent


@asset(partitions=DailyPartitions(start="2024-01-01"), retry={retry})
def flaky(context):
    log = HERE / "cmdlines"
    log.mkdir(exist_ok=True)
    (log / context.partition_key).write_bytes(Path("/proc/self/cmdline").read_bytes())
    crashed = HERE / f"crashed-{{context.partition_key}}"
    if context.partition_key in {crash} and not ({once} and crashed.exists()):
        crashed.write_text("")
        os.kill(os.getpid(), signal.SIGSEGV)
    time.sleep(0.2)  # the other worker's units are in flight when one crashes
    return pa.table({{"day": [int(context.partition_key[-2:])]}})
"""

NOW = datetime(2024, 1, 7, tzinfo=UTC)  # six complete days


def run(project, crash: tuple[str, ...], retry: str = "None", once: bool = False, **options):
    project.write("assets/flaky.py", CRASHING.format(crash=set(crash), retry=retry, once=once))
    return project.load().materialize(now=NOW, workers=2, **options)


def test_workers_are_spawned_and_load_the_project_themselves(project) -> None:
    report = run(project, crash=())

    assert report.status == "succeeded", [r.error for r in report.results]
    cmdlines = (project.root / "assets" / "cmdlines").iterdir()
    # A spawned worker is a fresh interpreter (`spawn_main`), not a fork of this process.
    assert all(b"spawn_main" in path.read_bytes() for path in cmdlines)


def test_a_segfaulting_unit_fails_alone_and_counts_once(project) -> None:
    report = run(project, crash=("2024-01-02",), max_failures=2)

    statuses = {r.partition: r.status for r in report.results}
    assert statuses == {f"2024-01-0{day}": "materialized" for day in range(1, 7)} | {
        "2024-01-02": "failed"
    }
    [failed] = [r for r in report.results if r.status == "failed"]
    assert failed.error.startswith(
        "the worker process running asset 'flaky' partition 2024-01-02 died with SIGSEGV"
    )
    assert project.load().read("flaky", ("2024-01-01", "2024-01-06"))["day"].tolist() == [
        1,
        3,
        4,
        5,
        6,
    ]


def test_a_worker_death_follows_the_assets_retry(project) -> None:
    report = run(
        project, crash=("2024-01-03",), retry="Retry(max_attempts=2, initial_delay=0)", once=True
    )

    assert report.status == "succeeded", [r.error for r in report.results]
    [retried] = [r for r in report.results if r.partition == "2024-01-03"]
    assert (retried.status, retried.attempts) == ("materialized", 2)
    assert (project.root / "assets" / "crashed-2024-01-03").exists()


def test_without_retry_attempts_left_a_worker_death_fails_the_unit(project) -> None:
    report = run(project, crash=("2024-01-03",), retry="Retry(max_attempts=1)", once=True)

    [crashed] = [r for r in report.results if r.partition == "2024-01-03"]
    assert (crashed.status, crashed.attempts) == ("failed", 1)
    assert "died with SIGSEGV" in crashed.error


SCRIPT = """
from datetime import UTC, datetime

from partita import load_project

report = load_project({root!r}).materialize(now=datetime(2024, 1, 3, tzinfo=UTC), workers=2)
print("finished", report.status, len(report.results))
"""


def test_a_script_without_a_main_guard_runs_once_with_workers(project, tmp_path) -> None:
    import subprocess
    import sys

    project.write("assets/flaky.py", CRASHING.format(crash=set(), retry="None", once=False))
    script = tmp_path / "script.py"  # no `if __name__ == "__main__":`, as users write them
    script.write_text(SCRIPT.format(root=str(project.root)))

    completed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == ["finished succeeded 2"]
