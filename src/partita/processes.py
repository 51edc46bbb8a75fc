"""Whether a process of this machine is still running (for leases and leftover files).

A pid alone can be reused once its process exits, so a process is named by its pid, its
start time and the boot of the machine it ran in (`ProcessIdentity`): Linux gives the start
time in clock ticks since boot (field 22 of `/proc/<pid>/stat`) and a random id per boot
(`/proc/sys/kernel/random/boot_id`). Elsewhere both are unknown (None) and only the pid counts.
"""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
_START_TIME_FIELD = 22  # of /proc/<pid>/stat, counting from 1 (man 5 proc)


def process_is_alive(
    pid: int | None, start_time: int | None = None, boot: str | None = None
) -> bool:
    """True while process `pid` exists (POSIX `kill(pid, 0)`); False for no pid.

    With a `start_time` (from `process_start_time`) or a `boot` id, a process with that pid
    started at another time or in another boot is another process: the one meant is gone.
    """
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by another user
    if boot is not None and boot_id() not in (None, boot):
        return False
    if start_time is not None:
        current = process_start_time(pid)
        return current is None or current == start_time
    return True


def process_start_time(pid: int) -> int | None:
    """When process `pid` started, in clock ticks since boot; None when unknown (not Linux,
    or no such process)."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces and ')': skip past it.
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[_START_TIME_FIELD - 3])
    except (IndexError, ValueError):
        return None


@functools.cache
def boot_id() -> str | None:
    """The id of this boot of the machine; None when unknown (not Linux)."""
    try:
        return (_PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip() or None
    except OSError:
        return None


def this_host() -> str:
    """The name of this machine, as leases record it."""
    return socket.gethostname()


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """A process, named so that a reused pid is not mistaken for it: host, pid, and (where
    known) start time in clock ticks since boot and boot id."""

    host: str
    pid: int
    start_time: int | None = None
    boot: str | None = None

    @classmethod
    def current(cls) -> ProcessIdentity:
        """This process."""
        pid = os.getpid()
        return cls(this_host(), pid, process_start_time(pid), boot_id())

    def is_alive(self) -> bool:
        """Whether this process still runs; only meaningful on its own host."""
        return process_is_alive(self.pid, self.start_time, self.boot)
