"""Process liveness: a pid is the process meant only if it started when that process did."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from partita.processes import (
    ProcessIdentity,
    boot_id,
    process_is_alive,
    process_start_time,
)


def exited_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_running_process_has_a_start_time_and_is_alive() -> None:
    start = process_start_time(os.getpid())
    assert isinstance(start, int) and start > 0
    assert process_is_alive(os.getpid())
    assert process_is_alive(os.getpid(), start, boot_id())


def test_a_gone_process_has_no_start_time_and_is_dead() -> None:
    pid = exited_pid()
    assert process_start_time(pid) is None
    assert not process_is_alive(pid)
    assert not process_is_alive(None) and not process_is_alive(0)


def test_a_pid_with_another_start_time_or_boot_is_another_process() -> None:
    start = process_start_time(os.getpid())
    assert start is not None
    assert not process_is_alive(os.getpid(), start + 1)
    assert not process_is_alive(os.getpid(), start, "another-boot")
    assert not ProcessIdentity("here", os.getpid(), start - 1, boot_id()).is_alive()


def test_the_start_time_of_a_process_whose_name_holds_parentheses(tmp_path: Path) -> None:
    """The command name in /proc/<pid>/stat may hold spaces and ')': fields are counted
    after the last ')'."""
    odd = tmp_path / "a) b c d"
    odd.symlink_to(sys.executable)
    child = subprocess.Popen(
        [str(odd), "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        assert "a) b c d" in Path(f"/proc/{child.pid}/stat").read_text()
        started = process_start_time(child.pid)
        assert started is not None and started >= process_start_time(os.getpid())  # type: ignore[operator]
        assert process_is_alive(child.pid, started, boot_id())
    finally:
        child.communicate(b"")
    assert not process_is_alive(child.pid, started)


def test_boot_id_is_stable() -> None:
    assert boot_id() == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
