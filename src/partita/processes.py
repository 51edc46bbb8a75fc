"""Whether a process of this machine is still running (for leases and leftover files)."""

from __future__ import annotations

import os


def process_is_alive(pid: int | None) -> bool:
    """True while process `pid` exists (POSIX `kill(pid, 0)`); False for no pid."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by another user
    return True


def process_start_time(pid: int) -> int | None:
    """When process `pid` started, in clock ticks after boot (Linux `/proc/<pid>/stat`
    field 22); None where that is unknown (no such process, not Linux).

    A pid and its start time name one process even after the pid is reused."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read()
    except OSError:
        return None
    # Field 2 (the command name) is in parentheses and may hold spaces: count after it.
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None
