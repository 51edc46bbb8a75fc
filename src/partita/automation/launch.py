"""A daemon tick's run, in its own process: `python -m partita.automation.launch ROOT TICK`.

The process first claims the tick in the catalog (only a requested tick can be claimed,
once), then runs exactly the units the tick requested through the session, as any
`partita materialize` would, names its run in the tick, and finishes the tick. SIGTERM
interrupts the run (recorded as interrupted) and puts the tick back to requested, so the
next daemon runs what remains.
"""

from __future__ import annotations

import sys
from datetime import datetime

from ..app.requests import RunRequest
from ..app.session import Session, open_session
from ..catalog.automation_records import TickRecord, current_holder
from ..errors import PartitaError
from ..execution.events import RunListener
from ..execution.interrupts import TERMINATED_EXIT, sigterm_as_interrupt
from ..execution.report import UnitStatus

EXIT_NOT_CLAIMED = 3


class _NameTheRun(RunListener):
    def __init__(self, session: Session, tick_id: int) -> None:
        self.session = session
        self.tick_id = tick_id

    def run_started(self, run_id: str, plan) -> None:
        self.session.catalog.add_tick_run(self.tick_id, run_id)


def tick_request(tick: TickRecord, workers: int = 1) -> RunRequest:
    """The run a tick requested: exactly its units, at its evaluation time; units asked
    for although up to date (observations, sensor requests, cron refreshes) run anyway."""
    units = frozenset((u.asset, u.partition) for u in tick.requested)
    return RunRequest(
        selection=tuple(sorted({asset for asset, _ in units})),
        now=tick.at,
        overdue={(u.asset, u.partition): u.why for u in tick.requested if u.force},
        only=units,
        workers=workers,
        command=f"partita daemon (tick {tick.tick_id})",
    )


def run_tick(root: str, tick_id: int, workers: int = 1) -> int:
    """Claim tick `tick_id` and run it; the exit code (3: another process had claimed it)."""
    with open_session(root) as session:
        catalog = session.catalog
        if not catalog.claim_tick(tick_id, current_holder(), datetime.now().astimezone()):
            return EXIT_NOT_CLAIMED
        tick = next(t for t in catalog.open_ticks() if t.tick_id == tick_id)
        try:
            report = session.run(tick_request(tick, workers), [_NameTheRun(session, tick_id)])
        except KeyboardInterrupt:
            catalog.requeue_tick(tick_id)
            return TERMINATED_EXIT
        except PartitaError as error:
            catalog.finish_tick(tick_id, error=error.format())
            return error.exit_code
        failed = report.counts().get(UnitStatus.FAILED, 0)
        catalog.finish_tick(tick_id, error=f"{failed} units failed" if failed else None)
        return 1 if failed else 0


if __name__ == "__main__":
    with sigterm_as_interrupt():
        sys.exit(run_tick(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
