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
