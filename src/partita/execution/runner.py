"""The runner: schedules the units of a plan, records each outcome, keeps states current.

A unit starts when every unit of this run that it reads has finished. Each unit ends
`materialized`, `up_to_date`, `failed` or `skipped` (an upstream unit failed in this run,
or the circuit breaker opened); independent branches keep going after a failure. Data is
durable before the catalog says it exists: storage writes fsync before the catalog
commit, which happens here, in one process, after the write.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..catalog.base import Catalog
from ..catalog.records import (
    AttemptStatus,
    MaterializationRecord,
    PartitionState,
    QuarantineRecord,
)
from ..definitions.partitions import TimePartitions
from ..errors import CatalogError, unit_label
from ..executors.base import Executor, WaitingExecutor
from ..faults import fault_point
from ..graph.graph import AssetGraph
from ..planning.plan import Plan, PlannedUnit, check_unit
from ..planning.staleness import Unit, consumed_inputs, upstream_reads
from ..planning.watermarks import max_watermark
from .cleanup import cleanup_step
from .events import RunListener
from .interrupts import interrupt_cause
from .pools import PoolGate, waiting_text
from .report import UnitResult, UnitStatus
from .unit import UnitJob, UnitOutcome

log = logging.getLogger("partita")

OLDEST_FIRST = "oldest-first"
NEWEST_FIRST = "newest-first"
ORDERS = (OLDEST_FIRST, NEWEST_FIRST)

LEASE_STALE_AFTER_S = 30.0  # a lease not refreshed for this long is taken over
HEARTBEAT_EVERY_S = 5.0
DEFERRED_POLL_S = 0.2


@dataclass
class RunOptions:
    """How to run: force, ordering, and the circuit breaker."""

    force: bool = False
    order: str = OLDEST_FIRST
    max_failures: int | None = None
    wait_for_locks: bool = True
    catch_up: frozenset[Unit] = frozenset()  # overdue units to run although up to date
    pools: Mapping[str, int] = field(default_factory=dict)  # concurrency pool sizes


@dataclass
class Runner:
    """Runs one plan. Before a unit runs, its state and the states of what it reads are
    read afresh from the catalog into `states`."""

    graph: AssetGraph
    catalog: Catalog
    run_id: str
    options: RunOptions = field(default_factory=RunOptions)
    listener: RunListener = field(default_factory=RunListener)
    root: Path | None = None  # the project folder, named in jobs for worker processes
    results: dict[Unit, UnitResult] = field(default_factory=dict)
    _records: dict[Unit, MaterializationRecord] = field(default_factory=dict)  # for listeners
    failures: int = 0
    states: dict[str, dict[str | None, PartitionState]] = field(default_factory=dict)
    _read_seq: dict[Unit, int] = field(default_factory=dict)  # catalog sequence of each read
    _watermarks: dict[str, dict[str | None, str | None]] = field(default_factory=dict)
    _pools: PoolGate | None = None
    _waiting: set[Unit] = field(default_factory=set)  # told they wait for a pool
    env: str | None = None  # the environment the project is loaded in, named in jobs
    # `--defer-to`: upstream assets read from another warehouse, with their states there.
    deferred_states: dict[str, dict[str | None, PartitionState]] = field(default_factory=dict)
    deferred_warehouse: str | None = None

    def __post_init__(self) -> None:
        for asset, states in self.deferred_states.items():
            self.states[asset] = dict(states)

    def run(self, plan: Plan, executor: Executor) -> list[UnitResult]:
        """Execute the plan; on KeyboardInterrupt (Ctrl-C, or SIGTERM as `Terminated`) no
        unit starts any more, the units in flight are recorded as interrupted, the leases
        released, and the interrupt propagates (the caller stops the executor)."""
        schedule = _Schedule(plan, self._priority())
        if self.options.pools:
            self._pools = PoolGate(self.graph, self.catalog, self.run_id, self.options.pools)
        for planned in plan.units:
            if planned.reason is None:
                result = UnitResult(planned.asset, planned.partition, UnitStatus.UP_TO_DATE, None)
                self._finish(schedule, planned, result)
        in_flight: dict[Unit, tuple[PlannedUnit, str, UnitJob]] = {}
        try:
            with _Heartbeat(self.catalog, self.run_id):
                while schedule.pending or in_flight:
                    schedule.offer_deferred(due_only=True)
                    while schedule.ready and executor.has_capacity(len(in_flight)):
                        planned = schedule.pop()
                        decided = self._dispatch(schedule, planned)
                        if isinstance(decided, str):
                            job = self._job(planned)
                            in_flight[planned.unit] = (planned, decided, job)
                            self.listener.unit_started(self.run_id, planned, decided)
                            executor.submit(planned.unit, job)
                    if in_flight:
                        done = _next_done(executor, schedule)
                        if done is None:  # time to offer the deferred units again
                            continue
                        unit, outcome = done
                        planned, reason, job = in_flight.pop(unit)
                        self._finish(
                            schedule, planned, self._record_outcome(planned, reason, job, outcome)
                        )
                    elif not schedule.ready:
                        schedule.wait_for_deferred()
        except KeyboardInterrupt as interrupt:
            executor.close()  # no worker may publish once the leases are released
            for planned, _, _ in in_flight.values():
                self._record_interrupted(planned, interrupt_cause(interrupt))
            raise
        finally:
            if self._pools is not None:
                with cleanup_step(f"free the pool slots of run {self.run_id}"):
                    self._pools.release_all()
            with cleanup_step(f"release the leases of run {self.run_id}"):
                self.catalog.release_leases(self.run_id)
        return [self.results[u.unit] for u in plan.units if u.unit in self.results]

    def _dispatch(self, schedule: _Schedule, planned: PlannedUnit) -> str | None:
        """The reason to run a ready unit (it is then leased), or None when it was settled
        here: skipped, up to date after all, locked, or deferred until its lease frees."""
        if self._breaker_open():
            self._finish(schedule, planned, self._skipped(planned))
            return None
        blocked = self._blocked_by_upstream(planned)
        if blocked is not None:
            self._finish(schedule, planned, blocked)
            return None
        holder = self.catalog.acquire_lease(
            planned.asset, planned.partition, self.run_id, datetime.now(UTC), LEASE_STALE_AFTER_S
        )
        if holder is not None:
            if self.options.wait_for_locks:
                schedule.defer(planned)
            else:
                reason = f"locked by run {holder.run_id} (pid {holder.pid})"
                self._finish(
                    schedule,
                    planned,
                    UnitResult(planned.asset, planned.partition, UnitStatus.LOCKED, reason),
                )
            return None
        # Another run may have materialized it (or what it reads) since the plan was made:
        # the planner decides again, on the unit's fresh states.
        self._refresh(planned)
        reason = check_unit(self.graph, planned, self.states, self.options.force)
        if reason is None and planned.unit in self.options.catch_up:
            reason = planned.reason  # an overdue unit runs although nothing changed
        if reason is None:
            self.catalog.release_lease(planned.asset, planned.partition, self.run_id)
            text = None if planned.reason is None else str(planned.reason)
            self._finish(
                schedule,
                planned,
                UnitResult(planned.asset, planned.partition, UnitStatus.UP_TO_DATE, text),
            )
            return None
        pool = self._pools.acquire(planned.unit) if self._pools is not None else None
        if pool is not None:  # full: wait, without holding the unit meanwhile
            self.catalog.release_lease(planned.asset, planned.partition, self.run_id)
            if planned.unit not in self._waiting:
                self._waiting.add(planned.unit)
                self.listener.unit_waiting(self.run_id, planned, waiting_text(pool))
            schedule.defer(planned)
            return None
        return str(reason)

    def _priority(self) -> Callable[[PlannedUnit], tuple]:
        """Oldest (or newest) partitions first; upstream assets before downstream."""
        position = {asset: i for i, asset in enumerate(self.graph.order)}
        sign = -1 if self.options.order == NEWEST_FIRST else 1

        def priority(planned: PlannedUnit) -> tuple:
            partitions = self.graph[planned.asset].partitions
            moment = 0.0
            if planned.index is not None and isinstance(partitions, TimePartitions):
                moment = partitions.partition_start(planned.index).timestamp()
            elif planned.index is not None:
                moment = float(planned.index)
            return (sign * moment, position[planned.asset])

        return priority

    def _breaker_open(self) -> bool:
        limit = self.options.max_failures
        return limit is not None and self.failures >= limit

    def _skipped(self, planned: PlannedUnit) -> UnitResult:
        return UnitResult(
            planned.asset,
            planned.partition,
            UnitStatus.SKIPPED,
            f"not started: {self.failures} units failed "
            f"(--max-failures {self.options.max_failures})",
        )

    def _blocked_by_upstream(self, planned: PlannedUnit) -> UnitResult | None:
        """Skipped when an upstream unit of this run failed, was skipped or is locked."""
        for read in planned.reads:
            upstream = self.results.get((read.asset, read.partition))
            if upstream is not None and upstream.status in (
                UnitStatus.FAILED,
                UnitStatus.SKIPPED,
                UnitStatus.LOCKED,
            ):
                label = unit_label(read.asset, read.partition)
                verb = "is locked" if upstream.status == UnitStatus.LOCKED else "failed"
                return UnitResult(
                    planned.asset,
                    planned.partition,
                    UnitStatus.SKIPPED,
                    f"upstream {verb}: {label}",
                )
        return None

    def _refresh(self, planned: PlannedUnit) -> None:
        """Re-read the unit's state and the states of what it reads from the catalog, in
        one snapshot whose sequence the unit records as the point it read its inputs at."""
        units = {planned.unit} | {
            read.unit for read in planned.reads if read.asset not in self.deferred_states
        }
        states, sequence = self.catalog.read_units(units)
        for asset, partition in units:
            state = states.get(asset, {}).get(partition)
            if state is not None:
                self.states.setdefault(asset, {})[partition] = state
        self._read_seq[planned.unit] = sequence

    def _job(self, planned: PlannedUnit) -> UnitJob:
        state = self.states.get(planned.asset, {}).get(planned.partition)
        return UnitJob(
            asset=planned.asset,
            partition=planned.partition,
            index=planned.index,
            reads=upstream_reads(planned.reads, self.states),
            run_id=self.run_id,
            previous_watermark=self._previous_watermark(planned.asset),
            previous_data_version=state.data_version if state else None,
            code_version=self.graph[planned.asset].code_version,
            root=None if self.root is None else str(self.root),
            env=self.env,
            deferred=tuple(
                (asset, self.deferred_warehouse or "")
                for asset in sorted({read.asset for read in planned.reads})
                if asset in self.deferred_states
            ),
        )

    def _previous_watermark(self, asset: str) -> str | None:
        """The asset's high-water mark before this unit (its partitions' watermarks are read
        once per run, then kept current)."""
        if self.graph[asset].watermark is None:
            return None
        if asset not in self._watermarks:
            states = self.catalog.states(asset)
            self._watermarks[asset] = {key: state.watermark for key, state in states.items()}
        return max_watermark(self._watermarks[asset].values())

    def _record_outcome(
        self, planned: PlannedUnit, reason: str, job: UnitJob, outcome: UnitOutcome
    ) -> UnitResult:
        if outcome.lease_lost:
            # Another run took the unit over and records it; this attempt published nothing.
            self._read_seq.pop(planned.unit, None)
            return UnitResult(
                planned.asset, planned.partition, UnitStatus.LOCKED, outcome.error, outcome.attempts
            )
        definition = self.graph[planned.asset]
        status = AttemptStatus.MATERIALIZED if outcome.succeeded else AttemptStatus.FAILED
        reads = job.reads if outcome.succeeded else ()
        if outcome.succeeded:
            fault_point("before-catalog-commit")
            self._record_quarantine(planned, outcome)
        self._record(
            MaterializationRecord(
                asset=planned.asset,
                partition=planned.partition,
                run_id=self.run_id,
                status=status,
                started=outcome.started,
                finished=outcome.finished,
                attempts=outcome.attempts,
                rows=outcome.rows,
                bytes=outcome.bytes,
                data_version=outcome.data_version,
                code_version=definition.code_version,
                inputs=consumed_inputs(list(reads)),
                consumed_seq=self._read_seq.pop(planned.unit, 0),
                deps_version=self.graph.deps_version(planned.asset),
                watermark=outcome.watermark,
                error=outcome.error,
                checks=outcome.checks,
                traceback=outcome.traceback,
                worker=outcome.worker,
            )
        )
        return UnitResult(
            planned.asset,
            planned.partition,
            UnitStatus.MATERIALIZED if outcome.succeeded else UnitStatus.FAILED,
            reason,
            outcome.attempts,
            outcome.rows,
            outcome.duration_s,
            outcome.error,
            outcome.checks,
        )

    def _record_quarantine(self, planned: PlannedUnit, outcome: UnitOutcome) -> None:
        """Record the rows the attempt set aside, before the attempt itself: a crash in
        between leaves the unit to rebuild, never an attempt without its quarantine."""
        if outcome.quarantined is None:
            return
        self.catalog.record_quarantine(
            QuarantineRecord(
                asset=planned.asset,
                partition=planned.partition,
                run_id=self.run_id,
                rows=outcome.quarantined,
                total_rows=outcome.quarantined + (outcome.rows or 0),
                checks=tuple(c.name for c in outcome.checks if c.message and c.passed),
                location=outcome.quarantine_location or "",
                recorded_at=outcome.finished,
            )
        )

    def _record_interrupted(self, planned: PlannedUnit, cause: str) -> None:
        moment = datetime.now(UTC)
        self._record(
            MaterializationRecord(
                asset=planned.asset,
                partition=planned.partition,
                run_id=self.run_id,
                status=AttemptStatus.INTERRUPTED,
                started=moment,
                finished=moment,
                attempts=0,
                code_version=self.graph[planned.asset].code_version,
                error=f"interrupted ({cause})",
            )
        )

    def _record(self, record: MaterializationRecord) -> None:
        self.catalog.record(record)
        self._records[(record.asset, record.partition)] = record
        if record.status == AttemptStatus.MATERIALIZED and record.asset in self._watermarks:
            self._watermarks[record.asset][record.partition] = record.watermark

    def _finish(self, schedule: _Schedule, planned: PlannedUnit, result: UnitResult) -> None:
        if self._pools is not None:
            self._pools.release(planned.unit)
        self.results[planned.unit] = result
        self.failures += result.status == UnitStatus.FAILED
        schedule.release(planned.unit)
        self.listener.unit_finished(self.run_id, result, self._records.pop(planned.unit, None))


def _next_done(executor: Executor, schedule: _Schedule) -> tuple[Unit, UnitOutcome] | None:
    """The next outcome; with units deferred, None when it is time to offer them again
    (an executor that cannot stop waiting makes them wait for one of its jobs)."""
    if schedule.deferred and isinstance(executor, WaitingExecutor):
        return executor.next_done_within(max(0.0, schedule.until_offer()))
    return executor.next_done()


class _Schedule:
    """The units still to run: a unit is ready once every unit of this run it reads is done."""

    def __init__(self, plan: Plan, priority: Callable[[PlannedUnit], tuple]) -> None:
        self._priority = priority
        self._sequence = itertools.count()
        self.ready: list[tuple[tuple, int, PlannedUnit]] = []
        self._waiting: dict[Unit, int] = {}
        self._readers: dict[Unit, list[PlannedUnit]] = defaultdict(list)
        self._deferred: list[PlannedUnit] = []
        self._offered = time.monotonic()
        to_run = {u.unit for u in plan.units if u.reason is not None}
        for planned in plan.units:
            if planned.reason is None:
                continue
            prerequisites = {read.unit for read in planned.reads} & to_run
            prerequisites.discard(planned.unit)
            self._waiting[planned.unit] = len(prerequisites)
            for prerequisite in prerequisites:
                self._readers[prerequisite].append(planned)
            if not prerequisites:
                self._push(planned)

    def _push(self, planned: PlannedUnit) -> None:
        heapq.heappush(self.ready, (self._priority(planned), next(self._sequence), planned))

    def pop(self) -> PlannedUnit:
        return heapq.heappop(self.ready)[-1]

    @property
    def pending(self) -> bool:
        """Units ready now or waiting for another run's lease."""
        return bool(self.ready or self._deferred)

    @property
    def deferred(self) -> bool:
        """Units waiting for another process (a lease, a pool slot)."""
        return bool(self._deferred)

    def defer(self, planned: PlannedUnit) -> None:
        """Another run holds the unit's lease: try again later."""
        self._deferred.append(planned)

    def wait_for_deferred(self) -> None:
        """Nothing else to do: wait a moment, then offer the deferred units again."""
        time.sleep(max(0.0, self.until_offer()))
        self.offer_deferred()

    def until_offer(self) -> float:
        """Seconds until the deferred units are offered again."""
        return self._offered + DEFERRED_POLL_S - time.monotonic()

    def offer_deferred(self, due_only: bool = False) -> None:
        """Make the deferred units ready again (with `due_only`, only when they waited
        `DEFERRED_POLL_S` since the last offer): another process may have freed what they
        wait for, a lease or a pool slot."""
        if due_only and (not self._deferred or self.until_offer() > 0):
            return
        for planned in self._deferred:
            self._push(planned)
        self._deferred.clear()
        self._offered = time.monotonic()

    def release(self, unit: Unit) -> None:
        """`unit` has finished: readers with nothing else to wait for become ready."""
        for reader in self._readers.pop(unit, ()):
            self._waiting[reader.unit] -= 1
            if self._waiting[reader.unit] == 0:
                self._push(reader)


class _Heartbeat:
    """Refreshes the run's leases in the background, so other runs see it is alive."""

    def __init__(self, catalog: Catalog, run_id: str) -> None:
        self._catalog = catalog
        self._run_id = run_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="partita-heartbeat", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_EVERY_S):
            try:
                self._catalog.heartbeat(self._run_id, datetime.now(UTC))
            except CatalogError as error:  # a busy catalog: try again at the next beat
                log.warning("could not refresh the leases of run %s: %s", self._run_id, error)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
