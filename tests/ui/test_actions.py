"""The launcher of runs started from the page: each run's console output is kept only
while it runs (its last lines remain to say why it did not start); the folder goes when
the server stops."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from partita.ui.actions import OUTPUT_TAIL_CHARS, Launcher


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.05)


def test_a_run_output_file_goes_when_the_run_ends_and_the_folder_on_close() -> None:
    launcher = Launcher()
    try:
        process = launcher.start([sys.executable, "-c", "print('x' * 5000 + ' why'); exit(3)"])
        assert process.wait(timeout=60) == 3
        output = launcher.output_of(process.pid)
        assert output.endswith("x why")
        assert len(output) == OUTPUT_TAIL_CHARS
        assert list(launcher.logs.iterdir()) == []
        assert launcher.processes == {}
        assert launcher.logs.is_dir()
    finally:
        launcher.close()
    assert not launcher.logs.exists()


def test_a_running_run_keeps_its_file_until_it_ends(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    launcher = Launcher()
    script = (
        "import pathlib, time\n"
        f"while not pathlib.Path({str(gate)!r}).exists(): time.sleep(0.02)\n"
        "print('done')"
    )
    process = launcher.start([sys.executable, "-c", script])
    try:
        (log,) = launcher.logs.iterdir()
        assert process.pid in launcher.processes
        gate.touch()
        wait_for(lambda: not log.exists(), "deleting the ended run's output")
        assert launcher.output_of(process.pid) == "done"
    finally:
        gate.touch()
        process.wait(timeout=60)
        launcher.close()


def test_closing_while_a_run_goes_leaves_the_run_going(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    launcher = Launcher()
    script = (
        "import pathlib, time\n"
        f"while not pathlib.Path({str(gate)!r}).exists(): time.sleep(0.02)\n"
        f"pathlib.Path({str(tmp_path / 'finished')!r}).touch()"
    )
    process = launcher.start([sys.executable, "-c", script])
    try:
        launcher.close()
        assert not launcher.logs.exists()
        assert process.poll() is None
        gate.touch()
        assert process.wait(timeout=60) == 0
        assert (tmp_path / "finished").exists()
    finally:
        gate.touch()
        process.wait(timeout=60)
