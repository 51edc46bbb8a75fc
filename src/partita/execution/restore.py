"""Restores: bring back an earlier data version of partitions, as a recorded run.

A restore is a materialization like any other: the run is recorded, each partition is
leased (waiting for a run that holds it, as runs wait for one another), the storage
publishes the kept version atomically while the lease is still held (`LeaseGuard`), and
only then does the catalog record it (`Versions.record_restore`), so data is durable
before the catalog says it exists. The replaced version is kept in its turn, so a restore
can itself be undone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import numpy as np

from ..catalog.base import Catalog
from ..catalog.records import AttemptStatus, MaterializationRecord, RunStatus
from ..errors import PartitaError, unit_label
from ..faults import fault_point
from ..graph.graph import AssetGraph
from ..planning.plan import AssetPlan, Plan, PlannedUnit
from ..planning.reasons import ReasonKind
from ..storage.base import Storage, WriteResult
from ..storage.registry import open_asset_storage
from .cleanup import cleanup_step
from .events import RunListener
from .interrupts import interrupt_cause
from .publishing import LeaseGuard, LeaseLostError
from .report import RunReport, UnitResult, UnitStatus
from .runner import DEFERRED_POLL_S, LEASE_STALE_AFTER_S, _Heartbeat

RESTORE_COMMAND = "restore"


@dataclass(frozen=True)
class RestoreTarget:
    """One partition to bring back to the data of `source`, a successful attempt."""

    asset: str
    partition: str | None
    source: MaterializationRecord

    @property
    def data_version(self) -> str:
        assert self.source.data_version is not None
        return self.source.data_version


class RestoreStatus(StrEnum):
    """How the restore of one partition ended."""

    RESTORED = "restored"
    FAILED = "failed"
    LOCKED = "locked"


@dataclass(frozen=True)
class RestoreResult:
    """The outcome of one target; `revalidated` are the readers found up to date."""

    asset: str
    partition: str | None
    data_version: str
    status: RestoreStatus
    error: str | None = None
    revalidated: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class RestoreReport:
    """A restore run: its id, status and the outcome of each target."""

    run_id: str
    status: RunStatus
    results: tuple[RestoreResult, ...]


def execute_restores(
    graph: AssetGraph,
    warehouse: Path,
    catalog: Catalog,
    targets: Sequence[RestoreTarget],
    *,
    command: str = RESTORE_COMMAND,
    wait: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    listener: RunListener | None = None,
) -> RestoreReport:
    """Restore every target, in order, as one recorded run. A target whose storage fails
    is recorded as a failed attempt (its data untouched) and the others go on; with `wait`
    False a target leased by another run is reported locked instead of waited for.

    `listener` hears the run as it hears a materialization (`RunListener`): the run
    started (with a plan of the targets, each `forced`), each unit started once leased
    (its reason `restore DATA_VERSION (of run RUN)`) and finished (with its record), and
    the run finished, so alerts, OpenLineage and the UI see restores too."""
    listener = listener or RunListener()
    plan = restore_plan(graph, targets, datetime.now(UTC))  # before the run: may refuse
    run_id = catalog.start_run(command, datetime.now(UTC))
    planned = {unit.unit: unit for unit in plan.units}
    run = _RestoreRun(graph, warehouse, catalog, run_id, listener)
    status = RunStatus.INTERRUPTED
    try:
        listener.run_started(run_id, plan)
        with _Heartbeat(catalog, run_id):
            for target in targets:
                run.restore(target, planned[(target.asset, target.partition)], wait, sleep)
        failed = any(r.status != RestoreStatus.RESTORED for r in run.results)
        status = RunStatus.FAILED if failed else RunStatus.SUCCEEDED
    finally:
        run.close()
        report = RunReport(run_id, tuple(run.units), status)
        with cleanup_step(f"record the end of run {run_id}"):
            catalog.finish_run(run_id, datetime.now(UTC), status, report.counts())
        listener.run_finished(report)
    return RestoreReport(run_id, status, tuple(run.results))


def restore_plan(graph: AssetGraph, targets: Sequence[RestoreTarget], now: datetime) -> Plan:
    """The targets as a plan (for listeners): per asset, its target partitions, forced."""
    keys: dict[str, set[str | None]] = {}
    for target in targets:
        keys.setdefault(target.asset, set()).add(target.partition)
    assets = []
    for asset, partitions in keys.items():
        declared = graph[asset].partitions
        if declared is None:
            indices = np.zeros(1, dtype=np.int64)
        else:
            indices = np.array(sorted(declared.index(k) for k in partitions), dtype=np.int64)
        count = len(indices)
        assets.append(
            AssetPlan(
                asset,
                declared,
                indices,
                np.full(count, ReasonKind.FORCED, dtype=np.int8),
                np.zeros(count, dtype=np.int16),
                np.zeros(count, dtype=np.int64),
            )
        )
    return Plan(tuple(assets), now)


def restore_reason(target: RestoreTarget) -> str:
    """Why a restore runs a unit, as listeners are told."""
    return f"restore {target.data_version} (of run {target.source.run_id})"


@dataclass
class _RestoreRun:
    """One restore run: its storages (opened on first use), results and events."""

    graph: AssetGraph
    warehouse: Path
    catalog: Catalog
    run_id: str
    listener: RunListener
    storages: dict[str, Storage] = field(default_factory=dict)
    results: list[RestoreResult] = field(default_factory=list)
    units: list[UnitResult] = field(default_factory=list)

    def restore(
        self,
        target: RestoreTarget,
        planned: PlannedUnit,
        wait: bool,
        sleep: Callable[[float], None],
    ) -> None:
        asset, partition = target.asset, target.partition
        holder = self._lease(asset, partition, wait, sleep)
        if holder is not None:
            self._finish(target, RestoreStatus.LOCKED, f"locked by run {holder}")
            return
        started = datetime.now(UTC)
        self.listener.unit_started(self.run_id, planned, restore_reason(target))
        written = self._publish(target, started)
        if written is None:
            return
        record = self._attempt(target, started, AttemptStatus.MATERIALIZED, written)
        downstream = self.graph.downstream[asset]
        try:
            fault_point("restore-before-catalog-commit")
            revalidated = self.catalog.record_restore(record, downstream)
        except KeyboardInterrupt:  # published: the catalog says so before the run ends
            with cleanup_step(f"record the restore of {unit_label(asset, partition)}"):
                self.catalog.record_restore(record, downstream)
            raise
        self._finish(target, RestoreStatus.RESTORED, None, record, started, revalidated)

    def _publish(self, target: RestoreTarget, started: datetime) -> WriteResult | None:
        """Publish the kept version while the lease is held; None when it was not (the
        failure or the lost lease is then noted). Interrupted (Ctrl-C, SIGTERM), the
        attempt is recorded as such before the run ends."""
        asset, partition = target.asset, target.partition
        guard = LeaseGuard(self.catalog)
        try:
            storage = self._storage(asset)
            return storage.restore(
                partition, target.data_version, lambda: guard(asset, partition, self.run_id)
            )
        except LeaseLostError as error:  # another run took the unit over and records it
            self._finish(target, RestoreStatus.LOCKED, str(error), started=started)
        except PartitaError as error:
            failed = self._attempt(target, started, AttemptStatus.FAILED, error=str(error))
            self.catalog.record(failed)
            self._finish(target, RestoreStatus.FAILED, str(error), failed, started)
        except KeyboardInterrupt as interrupt:
            cause = f"interrupted ({interrupt_cause(interrupt)})"
            with cleanup_step(f"record the interrupted restore of run {self.run_id}"):
                self.catalog.record(
                    self._attempt(target, started, AttemptStatus.INTERRUPTED, error=cause)
                )
            raise
        return None

    def close(self) -> None:
        for storage in self.storages.values():
            with cleanup_step(f"close the storages of run {self.run_id}"):
                storage.close()
        with cleanup_step(f"release the leases of run {self.run_id}"):
            self.catalog.release_leases(self.run_id)

    def _storage(self, asset: str) -> Storage:
        if asset not in self.storages:
            storage = open_asset_storage(
                self.graph[asset], self.warehouse, self.graph.retention(asset)
            )
            storage.cleanup()  # leftovers of interrupted writes and restores
            storage.open(self.run_id)
            self.storages[asset] = storage
        return self.storages[asset]

    def _attempt(
        self,
        target: RestoreTarget,
        started: datetime,
        status: AttemptStatus,
        written: WriteResult | None = None,
        error: str | None = None,
    ) -> MaterializationRecord:
        """The catalog record of the attempt: the restored data's, or a failed one."""
        restored = written is not None
        return MaterializationRecord(
            asset=target.asset,
            partition=target.partition,
            run_id=self.run_id,
            status=status,
            started=started,
            finished=datetime.now(UTC),
            attempts=1,
            rows=written.rows if written else None,
            bytes=written.bytes if written else None,
            data_version=written.data_version if written else None,
            code_version=target.source.code_version,
            inputs=target.source.inputs if restored else (),
            watermark=target.source.watermark if restored else None,
            consumed_seq=self._consumed_seq(target) if restored else 0,
            deps_version=self.graph.deps_version(target.asset),
            error=error,
            restored=restored,
        )

    def _finish(
        self,
        target: RestoreTarget,
        status: RestoreStatus,
        error: str | None,
        record: MaterializationRecord | None = None,
        started: datetime | None = None,
        revalidated: Sequence[tuple[str, str | None]] = (),
    ) -> None:
        """Note the outcome and tell the listener the unit finished."""
        asset, partition = target.asset, target.partition
        self.results.append(
            RestoreResult(asset, partition, target.data_version, status, error, tuple(revalidated))
        )
        unit = UnitResult(
            asset,
            partition,
            _UNIT_STATUS[status],
            restore_reason(target),
            attempts=0 if record is None else 1,
            rows=None if record is None else record.rows,
            duration_s=0.0 if started is None else (datetime.now(UTC) - started).total_seconds(),
            error=error,
        )
        self.units.append(unit)
        self.listener.unit_finished(self.run_id, unit, record)

    def _lease(
        self, asset: str, partition: str | None, wait: bool, sleep: Callable[[float], None]
    ) -> str | None:
        """Lease the unit, waiting for its holder when `wait`; the holder when locked."""
        while True:
            holder = self.catalog.acquire_lease(
                asset, partition, self.run_id, datetime.now(UTC), LEASE_STALE_AFTER_S
            )
            if holder is None:
                return None
            if not wait:
                return f"{holder.run_id} (pid {holder.pid})"
            sleep(DEFERRED_POLL_S)

    def _consumed_seq(self, target: RestoreTarget) -> int:
        """The sequence as of which the restored data's inputs are current: now, when each
        input it read is still its upstream's data; 0 (stale) otherwise."""
        inputs = target.source.inputs
        states, sequence = self.catalog.read_units((i.asset, i.partition) for i in inputs)
        for read in inputs:
            state = states.get(read.asset, {}).get(read.partition)
            if state is None or state.data_version != read.data_version:
                return 0
        return sequence


_UNIT_STATUS = {
    RestoreStatus.RESTORED: UnitStatus.MATERIALIZED,
    RestoreStatus.FAILED: UnitStatus.FAILED,
    RestoreStatus.LOCKED: UnitStatus.LOCKED,
}


def describe_target(target: RestoreTarget) -> str:
    """`asset partition -> data version (of run ...)` for plans and messages."""
    return (
        f"{unit_label(target.asset, target.partition)} -> {target.data_version} "
        f"(of run {target.source.run_id})"
    )
