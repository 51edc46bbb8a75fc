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
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from ..catalog.base import Catalog
from ..catalog.records import AttemptStatus, MaterializationRecord, RunStatus
from ..errors import PartitaError, unit_label
from ..faults import fault_point
from ..graph.graph import AssetGraph
from ..storage.base import Storage
from ..storage.registry import open_asset_storage
from .cleanup import cleanup_step
from .publishing import LeaseGuard
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
) -> RestoreReport:
    """Restore every target, in order, as one recorded run. A target whose storage fails
    is reported failed (its data and state untouched) and the others go on; with `wait`
    False a target leased by another run is reported locked instead of waited for."""
    run_id = catalog.start_run(command, datetime.now(UTC))
    storages: dict[str, Storage] = {}
    results: list[RestoreResult] = []
    status = RunStatus.INTERRUPTED
    try:
        with _Heartbeat(catalog, run_id):
            for target in targets:
                if target.asset not in storages:
                    storage = open_asset_storage(
                        graph[target.asset], warehouse, graph.retention(target.asset)
                    )
                    storage.cleanup()  # leftovers of interrupted writes and restores
                    storage.open(run_id)
                    storages[target.asset] = storage
                restorer = _Restorer(graph, catalog, run_id, storages[target.asset])
                results.append(restorer.restore(target, wait, sleep))
        failed = any(r.status != RestoreStatus.RESTORED for r in results)
        status = RunStatus.FAILED if failed else RunStatus.SUCCEEDED
    finally:
        for storage in storages.values():
            with cleanup_step(f"close the storages of run {run_id}"):
                storage.close()
        with cleanup_step(f"release the leases of run {run_id}"):
            catalog.release_leases(run_id)
        counts: dict[str, int] = {}
        for result in results:
            counts[result.status] = counts.get(result.status, 0) + 1
        with cleanup_step(f"record the end of run {run_id}"):
            catalog.finish_run(run_id, datetime.now(UTC), status, counts)
    return RestoreReport(run_id, status, tuple(results))


@dataclass
class _Restorer:
    graph: AssetGraph
    catalog: Catalog
    run_id: str
    storage: Storage

    def restore(
        self, target: RestoreTarget, wait: bool, sleep: Callable[[float], None]
    ) -> RestoreResult:
        asset, partition = target.asset, target.partition
        holder = self._lease(asset, partition, wait, sleep)
        if holder is not None:
            return RestoreResult(
                asset,
                partition,
                target.data_version,
                RestoreStatus.LOCKED,
                f"locked by run {holder}",
            )
        started = datetime.now(UTC)
        guard = LeaseGuard(self.catalog)
        try:
            written = self.storage.restore(
                partition, target.data_version, lambda: guard(asset, partition, self.run_id)
            )
        except PartitaError as error:
            self.catalog.release_lease(asset, partition, self.run_id)
            return RestoreResult(
                asset, partition, target.data_version, RestoreStatus.FAILED, str(error)
            )
        fault_point("restore-before-catalog-commit")
        record = MaterializationRecord(
            asset=asset,
            partition=partition,
            run_id=self.run_id,
            status=AttemptStatus.MATERIALIZED,
            started=started,
            finished=datetime.now(UTC),
            attempts=1,
            rows=written.rows,
            bytes=written.bytes,
            data_version=written.data_version,
            code_version=target.source.code_version,
            inputs=target.source.inputs,
            watermark=target.source.watermark,
            consumed_seq=self._consumed_seq(target),
            deps_version=self.graph.deps_version(asset),
            restored=True,
        )
        revalidated = self.catalog.record_restore(record, self.graph.downstream[asset])
        return RestoreResult(
            asset,
            partition,
            target.data_version,
            RestoreStatus.RESTORED,
            revalidated=tuple(revalidated),
        )

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


def describe_target(target: RestoreTarget) -> str:
    """`asset partition -> data version (of run ...)` for plans and messages."""
    return (
        f"{unit_label(target.asset, target.partition)} -> {target.data_version} "
        f"(of run {target.source.run_id})"
    )
