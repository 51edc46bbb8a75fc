"""SIGTERM handled like Ctrl-C: a `Terminated` (a KeyboardInterrupt) is raised in the main
thread, so a run stops starting units, records the ones in flight and itself as
interrupted, releases its leases and stops its workers."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

TERMINATED_EXIT = 128 + signal.SIGTERM  # 143, as a shell reports a process ended by SIGTERM


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


def interrupt_cause(interrupt: BaseException) -> str:
    """What stopped the run, for records and messages: `SIGTERM` or `Ctrl-C`."""
    return "SIGTERM" if isinstance(interrupt, Terminated) else "Ctrl-C"


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises `Terminated` in the main thread (elsewhere: no change)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
