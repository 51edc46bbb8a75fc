"""Cleanup steps that never hide the error that made them run: the first error wins."""

from __future__ import annotations

import logging
import sys
from types import TracebackType

log = logging.getLogger("partita")


class cleanup_step:  # lower case: used like a function, `with cleanup_step(...):`
    """Run a cleanup step (release leases, record the run's end, stop workers).

    When an error is already on its way out (the step runs in a `finally` or an `except`),
    an error of the step is logged and attached to that error as a note instead of
    replacing it: a full disk that fails both the unit and the cleanup reports the unit's
    error. With no error on its way out, the step's error propagates.
    """

    def __init__(self, action: str) -> None:
        self.action = action
        self._pending: BaseException | None = None

    def __enter__(self) -> cleanup_step:
        self._pending = sys.exception()
        return self

    def __exit__(
        self,
        exception_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        pending = self._pending
        if error is None or pending is None or not isinstance(error, Exception):
            return False
        log.warning("could not %s: %s", self.action, error)
        pending.add_note(f"While cleaning up, could not {self.action}: {error}")
        return True
