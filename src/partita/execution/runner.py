"""The runner: executes a plan unit by unit, in topological order, and records each result.

Each unit ends `materialized`, `up_to_date`, `failed` or `skipped` (an upstream unit failed
in this run). Independent branches keep going after a failure. Data is durable before the
catalog says it exists: storage writes fsync before the catalog commit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..catalog.records import FAILED as ATTEMPT_FAILED
from ..catalog.records import INTERRUPTED, MATERIALIZED, MaterializationRecord, PartitionState
from ..definitions.context import AssetContext
from ..definitions.storage import Parquet
from ..graph.graph import AssetGraph
from ..planning.plan import Plan, PlannedUnit
from ..planning.staleness import (
    FORCED,
    Lineage,
    States,
    Unit,
    UpstreamRead,
    consumed_inputs,
    stale_reason,
)
from ..planning.watermarks import high_water_mark, parse_watermark
from ..storage.base import Storage, open_storage
from .cache import TableCache
from .io import check_upstream_published, load_inputs, read_upstream, to_arrow
from .report import FAILED, SKIPPED, UP_TO_DATE, UnitResult
from .retries import call_with_retry
from .watermarks import watermark_of

log = logging.getLogger("partita")


@dataclass
class Runner:
    """Runs the units of one plan and keeps the in-memory partition states current."""

    graph: AssetGraph
    warehouse: Path
    catalog: Any
    run_id: str
    states: dict[str, dict[str | None, PartitionState]]
    force: bool = False
    sleep: Callable[[float], None] = time.sleep
    on_unit_done: Callable[[UnitResult], None] = lambda result: None
    cache: TableCache = field(default_factory=TableCache)
    _storages: dict[str, Storage] = field(default_factory=dict)

    def storage(self, asset: str) -> Storage:
        if asset not in self._storages:
            definition = self.graph[asset]
            hive_key = definition.partitions.hive_key if definition.partitions else None
            self._storages[asset] = open_storage(
                definition.storage, self.warehouse, asset, hive_key
            )
        return self._storages[asset]

    def read_upstream(self, reads: list[UpstreamRead]) -> Any:
        """One upstream asset's partitions for a unit; Parquet data through the run's cache."""
        asset = reads[0].asset
        cacheable = isinstance(self.graph[asset].storage, Parquet)
        return read_upstream(reads, self.storage(asset), self.cache if cacheable else None)

    def run(self, plan: Plan) -> list[UnitResult]:
        """Execute every unit of the plan; a KeyboardInterrupt propagates after the unit in
        progress is recorded as interrupted."""
        lineage = Lineage(self.graph, plan.now)
        pending: set[Unit] = {u.unit for u in plan.units if u.reason is not None}
        broken: dict[Unit, str] = {}  # failed or skipped units, with a label for readers
        results = []
        for planned in plan.units:
            pending.discard(planned.unit)
            result = self._run_unit(lineage, planned, pending, broken)
            if result.status in (FAILED, SKIPPED):
                broken[planned.unit] = _label(planned.asset, planned.partition)
            results.append(result)
            self.on_unit_done(result)
        return results

    def _run_unit(
        self, lineage: Lineage, planned: PlannedUnit, pending: set[Unit], broken: dict[Unit, str]
    ) -> UnitResult:
        if planned.reason is None:
            return UnitResult(planned.asset, planned.partition, UP_TO_DATE, None)
        reads = list(lineage.reads(planned.asset, planned.index, self.states))
        for read in reads:
            label = broken.get((read.asset, read.partition))
            if label is not None:
                return UnitResult(
                    planned.asset, planned.partition, SKIPPED, f"upstream failed: {label}"
                )
        # Re-check now that upstream units have run: an identical rebuild upstream
        # leaves this unit up to date (early cutoff).
        reason = stale_reason(
            lineage, planned.asset, planned.index, self.states, pending, self.force
        )
        if reason is None:
            return UnitResult(planned.asset, planned.partition, UP_TO_DATE, planned.reason)
        return self._materialize(lineage, planned, reads, reason)

    def _materialize(self, lineage: Lineage, planned: PlannedUnit, reads, reason: str):
        definition = self.graph[planned.asset]
        started = datetime.now(UTC)
        clock = time.perf_counter()
        attempts = 0

        def count_attempt(attempt: int) -> None:
            nonlocal attempts
            attempts = attempt

        def attempt() -> tuple[Any, Any]:
            check_upstream_published(planned.asset, planned.partition, reads)
            with _LazyDuckDB() as relations:
                arguments = load_inputs(
                    definition,
                    reads,
                    self.read_upstream,
                    relations.connection,
                    [d.parameter for d in self.graph.dependencies[planned.asset] if d.parameter],
                )
                if definition.wants_context:
                    arguments["context"] = self._context(planned)
                value = definition.fn(**arguments)
                table = to_arrow(planned.asset, planned.partition, value)
            written = self.storage(planned.asset).write(planned.partition, table)
            if isinstance(definition.storage, Parquet):
                # What Parquet stores reads back identical, so readers in this run reuse it.
                self.cache.put(planned.asset, planned.partition, written.data_version, table)
            return table, written

        base = {
            "asset": planned.asset,
            "partition": planned.partition,
            "run_id": self.run_id,
            "started": started,
            "code_version": definition.code_version,
        }
        try:
            table, written = call_with_retry(
                attempt,
                definition.retry,
                describe=_label(planned.asset, planned.partition),
                log=log,
                sleep=self.sleep,
                on_attempt=count_attempt,
            )
        except KeyboardInterrupt:
            self._record(
                MaterializationRecord(
                    **base,
                    status=INTERRUPTED,
                    finished=datetime.now(UTC),
                    attempts=attempts,
                    error="interrupted (Ctrl-C)",
                )
            )
            raise
        except Exception as error:
            message = _error_message(planned, error)
            log.debug("%s", message, exc_info=error)
            self._record(
                MaterializationRecord(
                    **base,
                    status=ATTEMPT_FAILED,
                    finished=datetime.now(UTC),
                    attempts=attempts,
                    error=message,
                )
            )
            return UnitResult(
                planned.asset,
                planned.partition,
                FAILED,
                reason,
                attempts,
                duration_s=time.perf_counter() - clock,
                error=message,
            )
        self._record(
            MaterializationRecord(
                **base,
                status=MATERIALIZED,
                finished=datetime.now(UTC),
                attempts=attempts,
                rows=written.rows,
                bytes=written.bytes,
                data_version=written.data_version,
                inputs=consumed_inputs(reads),
                watermark=watermark_of(table, definition.watermark),
            )
        )
        return UnitResult(
            planned.asset,
            planned.partition,
            MATERIALIZED,
            reason,
            attempts,
            written.rows,
            time.perf_counter() - clock,
        )

    def _context(self, planned: PlannedUnit) -> AssetContext:
        partitions = self.graph[planned.asset].partitions
        start = end = None
        if planned.index is not None and hasattr(partitions, "partition_start"):
            start = partitions.partition_start(planned.index)
            end = partitions.partition_end(planned.index)
        return AssetContext(
            asset_name=planned.asset,
            partition_key=planned.partition,
            partition_start=start,
            partition_end=end,
            run_id=self.run_id,
            log=logging.getLogger(f"partita.assets.{planned.asset}"),
            watermark=parse_watermark(high_water_mark(self.states.get(planned.asset, {}).values())),
        )

    def _record(self, record: MaterializationRecord) -> None:
        self.catalog.record(record)
        asset_states = self.states.setdefault(record.asset, {})
        asset_states[record.partition] = next_state(asset_states.get(record.partition), record)


def next_state(previous: PartitionState | None, record: MaterializationRecord) -> PartitionState:
    """The state after an attempt: a failed one keeps what was published before."""
    if record.status == MATERIALIZED or previous is None:
        published = record.status == MATERIALIZED
        return PartitionState(
            partition=record.partition,
            last_status=record.status,
            data_version=record.data_version if published else None,
            code_version=record.code_version if published else None,
            inputs=record.inputs if published else (),
            materialized_at=record.finished if published else None,
            last_attempt_at=record.finished,
            watermark=record.watermark if published else None,
            rows=record.rows if published else None,
            error=record.error,
        )
    return replace(
        previous, last_status=record.status, last_attempt_at=record.finished, error=record.error
    )


def _label(asset: str, partition: str | None) -> str:
    return asset if partition is None else f"{asset} {partition}"


def _error_message(planned: PlannedUnit, error: BaseException) -> str:
    where = f"asset '{planned.asset}'" + (
        f" partition {planned.partition}" if planned.partition is not None else ""
    )
    text = str(error)
    if text.startswith(where):
        return text
    return f"{where} failed: {type(error).__name__}: {text}"


class _LazyDuckDB:
    """An in-memory DuckDB connection for relation inputs, open only while the asset runs."""

    def __init__(self) -> None:
        self._connection = None

    def connection(self):
        if self._connection is None:
            import duckdb

            self._connection = duckdb.connect()
        return self._connection

    def __enter__(self) -> _LazyDuckDB:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._connection is not None:
            self._connection.close()


__all__ = ["FORCED", "Runner", "States", "next_state"]
