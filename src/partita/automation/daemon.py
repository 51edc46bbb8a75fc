"""`partita daemon`: evaluate automation every tick and launch the runs it requests.

Exactly once, across restarts and rival daemons:

- One daemon per warehouse: a daemon lease in the catalog, refreshed by a background
  thread every few seconds whatever the tick length; a second daemon exits with a message
  naming the holder, or (`wait`) waits until the lease is free and takes it.
- Each tick's requests and cursors are committed before its run is launched; the run
  process claims the tick before running it. A daemon killed between the two leaves the
  tick requested, and the next daemon launches it; a claimed tick is never run twice.
- Units requested by a tick not finished are not requested again.
- SIGTERM or Ctrl-C finish the current tick, stop the run processes (their runs are
  recorded interrupted and their ticks requeued), release the lease and exit 0; a
  restarted daemon resumes the requeued ticks.

Runs happen in their own processes (`launch.py`), so a long run never delays a tick; the
daemon evaluates again as soon as one of its runs ends (what eager conditions wait for),
else every `tick` seconds.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from ..app.session import Session
from ..catalog.automation_records import Holder, TickStatus, current_holder, holder_is_dead
from ..discovery import DEFAULT_ENV, ENV_VARIABLE
from ..errors import EXIT_FAILED, CatalogError, PartitaError
from ..faults import fault_point
from .tick import evaluate_tick

log = logging.getLogger("partita")

STOP_RUNS_TIMEOUT_S = 60.0
POLL_S = 0.05
LEASE_HEARTBEAT_S = 5.0  # the daemon lease is refreshed this often, whatever the tick
LEASE_STALE_AFTER_S = 30.0  # another host's daemon lease not refreshed for this long is free
LEASE_WAIT_POLL_S = 1.0  # a waiting daemon tries to take the lease this often


class DaemonBusyError(PartitaError):
    """Another daemon holds the warehouse's daemon lease."""

    exit_code = EXIT_FAILED


@dataclass(frozen=True)
class DaemonOptions:
    """What `partita daemon` was asked: a selection, the tick period in seconds, one tick
    only, a fixed evaluation time, workers per run, and whether to wait for the daemon
    lease another daemon holds (else exit)."""

    selection: tuple[str, ...] = ()
    tick: float = 30.0
    once: bool = False
    now: datetime | None = None
    workers: int = 1
    wait: bool = False


class Daemon:
    """The daemon loop over one session (see the module)."""

    def __init__(self, session: Session, options: DaemonOptions, say: Callable[[str], None]):
        self.session = session
        self.options = options
        self.say = say
        self.holder = current_holder()
        self.stop = threading.Event()
        self.children: dict[int, subprocess.Popen] = {}  # by tick id

    @property
    def catalog(self):
        return self.session.catalog

    def run(self) -> int:
        """Run until stopped (or one tick with `once`); the exit code."""
        with _stop_on_signals(self.stop):
            if not self._wait_for_lease():
                self.say("daemon stopped before it got the lease")
                return 0
            try:
                with _LeaseHeartbeat(self.catalog, self.holder):
                    self._loop()
            finally:
                self._stop_runs()
                self.catalog.release_daemon_lease(self.holder)
        self.say("daemon stopped")
        return 0

    def _wait_for_lease(self) -> bool:
        """Take the lease; with `wait`, wait while another daemon holds it (False: stopped
        while waiting). Without `wait`, DaemonBusyError names the holder."""
        if not self.options.wait:
            self._take_lease()
            return True
        told = False
        while not self.stop.is_set():
            other = self._try_lease()
            if other is None:
                return True
            if not told:
                self.say(
                    f"waiting for the daemon lease: another partita daemon (pid {other.pid} "
                    f"on {other.host}) is running for the warehouse {self.session.warehouse}"
                )
                told = True
            self.stop.wait(LEASE_WAIT_POLL_S)
        return False

    def _try_lease(self) -> Holder | None:
        return self.catalog.acquire_daemon_lease(
            self.holder, datetime.now(UTC), LEASE_STALE_AFTER_S
        )

    def _loop(self) -> None:
        while True:
            self._reap()
            self._resume()
            self._tick()
            if self.options.once:
                self._wait_for_runs()
                return
            self._sleep()
            if self.stop.is_set():
                return
            self._take_lease()

    def _take_lease(self) -> None:
        other = self._try_lease()
        if other is not None:
            raise DaemonBusyError(
                f"another partita daemon (pid {other.pid} on {other.host}) is running for the "
                f"warehouse {self.session.warehouse}; only one may launch runs. Stop it first "
                "(kill -TERM its pid), or leave it running."
            )

    def _now(self) -> datetime:
        return self.options.now or datetime.now(UTC)

    def _tick(self) -> None:
        now = self._now()
        in_flight = [
            (unit.asset, unit.partition) for t in self.catalog.open_ticks() for unit in t.requested
        ]
        plan = evaluate_tick(self.session, now, self.options.selection, in_flight)
        error = "; ".join(plan.errors) or None
        tick = self.catalog.record_tick(now, plan.evaluated, plan.units(), plan.cursors, error)
        for message in plan.errors:
            self.say(f"tick {tick.tick_id}: {message}")
        if tick.status != TickStatus.REQUESTED:
            self.say(f"tick {tick.tick_id} at {now.isoformat()}: nothing to do")
            return
        fault_point("daemon-launch")
        self._launch(tick.tick_id, len(tick.requested))

    def _launch(self, tick_id: int, units: int) -> None:
        command = [
            sys.executable,
            "-m",
            "partita.automation.launch",
            str(self.session.root),
            str(tick_id),
            str(self.options.workers),
        ]
        # The run process opens the same environment's warehouse and catalog as the daemon.
        environment = {**os.environ, ENV_VARIABLE: self.session.config.env or DEFAULT_ENV}
        child = subprocess.Popen(command, env=environment)
        self.children[tick_id] = child
        self.say(f"tick {tick_id}: launched a run of {units} units (pid {child.pid})")

    def _resume(self) -> None:
        """Launch ticks left requested (by a daemon killed before launching, or a run
        stopped); finish ticks whose run process died without finishing them."""
        for tick in self.catalog.open_ticks():
            if tick.tick_id in self.children:
                continue
            if tick.status == TickStatus.REQUESTED:
                self.say(f"tick {tick.tick_id}: resuming its requests")
                self._launch(tick.tick_id, len(tick.requested))
            elif tick.launcher is not None and _is_dead(tick.launcher):
                self.catalog.finish_tick(
                    tick.tick_id,
                    error=f"its run process (pid {tick.launcher.pid}) died before the end; "
                    "the units it did not finish are evaluated again",
                )

    def _reap(self) -> bool:
        """Forget run processes that ended; True when one did."""
        ended = [tick_id for tick_id, child in self.children.items() if child.poll() is not None]
        for tick_id in ended:
            child = self.children.pop(tick_id)
            outcome = {0: "succeeded", 1: "had failures", 3: "run by another process"}.get(
                child.returncode, f"exit code {child.returncode}"
            )
            self.say(f"tick {tick_id}: its run ended ({outcome}); see partita runs")
            if child.returncode < 0:  # killed by a signal: it could not finish its tick
                self.catalog.finish_tick(
                    tick_id, error=f"its run process was killed by signal {-child.returncode}"
                )
        return bool(ended)

    def _sleep(self) -> None:
        """Until the next tick, a run ends, or a stop."""
        deadline = time.monotonic() + self.options.tick
        while not self.stop.is_set() and time.monotonic() < deadline:
            if self._reap():
                return
            self.stop.wait(POLL_S)

    def _wait_for_runs(self) -> None:
        while self.children and not self.stop.is_set():
            self._reap()
            self.stop.wait(POLL_S)

    def _stop_runs(self) -> None:
        """Stop the runs still going (each records itself interrupted and requeues its
        tick), then wait for them."""
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children.values():
            try:
                child.wait(STOP_RUNS_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.children.clear()


class _LeaseHeartbeat:
    """Refreshes the daemon lease in the background every `LEASE_HEARTBEAT_S`, so a long
    tick (a slow sensor, a big evaluation) never makes the daemon look gone. The loop
    still checks the lease before each tick: a daemon that lost it stops launching."""

    def __init__(self, catalog, holder: Holder) -> None:
        self._catalog = catalog
        self._holder = holder
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="partita-daemon-lease", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(LEASE_HEARTBEAT_S):
            try:
                other = self._catalog.acquire_daemon_lease(
                    self._holder, datetime.now(UTC), LEASE_STALE_AFTER_S
                )
            except CatalogError as error:  # a busy catalog: try again at the next beat
                log.warning("could not refresh the daemon lease: %s", error)
                continue
            if other is not None:
                log.warning("the daemon lease was taken by pid %s on %s", other.pid, other.host)
                return

    def __enter__(self) -> _LeaseHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def _is_dead(holder: Holder) -> bool:
    return holder_is_dead(holder, None, datetime.now(UTC), float("inf"))


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set `stop` (the tick in progress finishes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
