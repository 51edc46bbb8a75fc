"""One daemon thread that handles submitted items in order, so that observers (alerts,
lineage) never make a run wait on the network; the run's end waits a bounded time."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger("partita")

T = TypeVar("T")
_DONE = object()


class BackgroundWorker(Generic[T]):
    """Calls `handle(item)` for each submitted item, in order, on one daemon thread
    (started on the first item). `handle` must not raise; if it does, the error is logged
    and the next item handled."""

    def __init__(self, handle: Callable[[T], None], name: str) -> None:
        self.handle = handle
        self.name = name
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread: threading.Thread | None = None

    def submit(self, item: T) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
            self._thread.start()
        self._queue.put(item)

    def close(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for the items submitted so far; return how many
        were left unhandled (logged as a warning)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return 0
        self._queue.put(_DONE)
        thread.join(timeout)
        if not thread.is_alive():
            return 0
        left = max(0, self._queue.qsize() - 1) + 1  # the one in hand, and those waiting
        log.warning(
            "%s: %d item(s) not handled after waiting %g s; giving up on them",
            self.name,
            left,
            timeout,
        )
        return left

    def _serve(self) -> None:
        while (item := self._queue.get()) is not _DONE:
            try:
                self.handle(item)  # type: ignore[arg-type]
            except Exception:
                log.exception("%s failed", self.name)
