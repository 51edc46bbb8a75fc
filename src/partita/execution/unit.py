"""Executing one unit: load its inputs, call the asset function with retries, check what it
returned, write it. Runs in the runner's process or in a worker process; it never touches
the catalog, so the runner records every outcome in one place."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..catalog.records import CheckResult
from ..definitions.context import AssetContext
from ..definitions.partitions import TimePartitions
from ..errors import describe_unit, unit_label
from ..faults import fault_point
from ..graph.graph import AssetGraph
from ..planning.staleness import UpstreamRead
from ..planning.watermarks import max_watermark, parse_watermark
from ..storage.base import Storage, WriteResult
from ..storage.registry import open_asset_storage
from ..storage.schemas import unify_schemas
from .cache import TableCache
from .io import check_upstream_published, load_inputs, read_upstream, to_arrow
from .publishing import LeaseLostError
from .quality import check_schema, run_checks
from .retries import call_with_retry
from .unit_logs import UnitLogCapture
from .watermarks import watermark_of

log = logging.getLogger("partita")

PublishGuard = Callable[
    [str, str | None, str], None
]  # (asset, partition, run_id); raises to refuse


@dataclass(frozen=True)
class UnitJob:
    """Everything a worker needs to materialize one unit (picklable): a worker that did not
    fork from the coordinator loads the project at `root` and checks `code_version`."""

    asset: str
    partition: str | None
    index: int | None
    reads: tuple[UpstreamRead, ...]
    run_id: str
    previous_watermark: str | None
    previous_data_version: str | None = None
    code_version: str | None = None  # of the asset as planned; None: not checked
    root: str | None = None  # the project folder; None: only this process can run it


@dataclass(frozen=True)
class UnitOutcome:
    """What happened to a job: written (with rows, bytes, version, watermark) or an error."""

    started: datetime
    finished: datetime
    attempts: int
    duration_s: float
    rows: int | None = None
    bytes: int | None = None
    data_version: str | None = None
    watermark: str | None = None
    error: str | None = None
    checks: tuple[CheckResult, ...] = ()
    lease_lost: bool = False  # not published: the run no longer held the unit's lease

    @property
    def succeeded(self) -> bool:
        return self.error is None


@dataclass
class Workspace:
    """The graph and warehouse a process executes against, with its storages and cache."""

    graph: AssetGraph
    warehouse: Path
    sleep: Callable[[float], None] = time.sleep
    root: Path | None = None  # the project folder, for jobs other processes run
    guard: PublishGuard | None = None  # called just before a write publishes
    cache: TableCache = field(default_factory=TableCache)
    shared: bool = False  # other processes of the run write the same storages (pool workers)
    _storages: dict[str, Storage] = field(default_factory=dict)
    _opened: set[str] = field(default_factory=set)
    _schemas: dict[str, Any] = field(default_factory=dict)

    def storage(self, asset: str) -> Storage:
        if asset not in self._storages:
            self._storages[asset] = open_asset_storage(self.graph[asset], self.warehouse)
        return self._storages[asset]

    def run_storage(self, asset: str, run_id: str) -> Storage:
        """The asset's storage, opened for run `run_id` on first use (see `close`)."""
        storage = self.storage(asset)
        if asset not in self._opened:
            storage.open(run_id, shared=self.shared)
            self._opened.add(asset)
        return storage

    def close(self) -> None:
        """Close every storage opened for the run (a DuckDB file held open, say)."""
        opened, self._opened = self._opened, set()
        for asset in sorted(opened):
            self._storages[asset].close()

    def read_upstream(self, reads: list[UpstreamRead]) -> Any:
        """One upstream asset's partitions for a unit; through the cache when what the
        storage wrote reads back exactly."""
        storage = self.storage(reads[0].asset)
        return read_upstream(reads, storage, self.cache if storage.reads_back_exactly else None)

    def execute(self, job: UnitJob) -> UnitOutcome:
        """Materialize the unit; failures become an outcome with an error message. A
        KeyboardInterrupt propagates. What the unit logs and prints is kept in the
        warehouse (see `unit_logs`)."""
        with UnitLogCapture(job.run_id, job.asset, job.partition) as capture:
            outcome = self._execute(job, capture.attempt)
            if outcome.error is not None:  # so that the logs end with why the unit failed
                capture.add("log", outcome.error, "ERROR", "partita")
        capture.save(self.warehouse)
        return outcome

    def _execute(self, job: UnitJob, on_attempt: Callable[[int], None]) -> UnitOutcome:
        started = datetime.now(UTC)
        clock = time.perf_counter()
        refused = self._refuse(job)
        if refused is not None:
            return UnitOutcome(started, datetime.now(UTC), 0, 0.0, error=refused)
        definition = self.graph[job.asset]
        attempts = 0

        def count_attempt(attempt: int) -> None:
            nonlocal attempts
            attempts = attempt
            on_attempt(attempt)

        try:
            written, watermark, checks = call_with_retry(
                lambda: self._attempt(job),
                definition.retry,
                describe=unit_label(job.asset, job.partition),
                log=log,
                sleep=self.sleep,
                on_attempt=count_attempt,
            )
        except LeaseLostError as error:
            moment = datetime.now(UTC)
            duration = time.perf_counter() - clock
            return UnitOutcome(
                started, moment, attempts, duration, error=str(error), lease_lost=True
            )
        except Exception as error:
            message = _error_message(job, error)
            log.debug("%s", message, exc_info=error)
            return UnitOutcome(
                started,
                datetime.now(UTC),
                attempts,
                time.perf_counter() - clock,
                error=message,
                checks=getattr(error, "results", ()),
            )
        return UnitOutcome(
            started,
            datetime.now(UTC),
            attempts,
            time.perf_counter() - clock,
            rows=written.rows,
            bytes=written.bytes,
            data_version=written.data_version,
            watermark=watermark,
            checks=checks,
        )

    def _refuse(self, job: UnitJob) -> str | None:
        """Why this process must not run the job: it loaded other code than was planned."""
        if job.asset not in self.graph:
            return (
                f"{describe_unit(job.asset, job.partition)}: not run: the project loaded from "
                f"{job.root or self.root} does not define asset '{job.asset}' (it was removed "
                "while the run was going). Run the command again."
            )
        definition = self.graph[job.asset]
        if job.code_version is None or job.code_version == definition.code_version:
            return None
        return (
            f"{describe_unit(job.asset, job.partition)}: not run: it was planned with code "
            f"version {job.code_version}, but the project loaded from {job.root or self.root} "
            f"has code version {definition.code_version} (the asset's code changed while the "
            "run was going). Run the command again to materialize it with the current code."
        )

    def _attempt(self, job: UnitJob) -> tuple[WriteResult, str | None, tuple[CheckResult, ...]]:
        """Compute, audit (checks, schema), then publish; nothing is written unless the new
        data passes."""
        definition = self.graph[job.asset]
        reads = list(job.reads)
        check_upstream_published(job.asset, job.partition, reads)
        with _LazyDuckDB() as relations:
            arguments = load_inputs(
                definition,
                reads,
                self.read_upstream,
                relations.connection,
                [d.parameter for d in self.graph.dependencies[job.asset] if d.parameter],
            )
            if definition.wants_context:
                arguments["context"] = self._context(job)
            value = definition.fn(**arguments)
            fault_point("asset")
            table = to_arrow(job.asset, job.partition, value)
        storage = self.run_storage(job.asset, job.run_id)
        # What a later read returns: what is checked, hashed, cached and written.
        table = storage.canonical(table, job.partition)
        merging = storage.merges
        watermark = watermark_of(table, definition.watermark)
        if merging:
            # Upserted rows join the rows already stored: the mark can only move forward.
            watermark = max_watermark([job.previous_watermark, watermark])
        where = describe_unit(job.asset, job.partition)
        checks = run_checks(where, definition.checks, table)
        evolve = definition.schema == "evolve"
        if definition.partitions is not None or merging:
            check_schema(where, storage.location(), self._schema(job), table.schema, evolve)
        written = storage.write(
            job.partition, table, evolve=evolve, before_publish=self._before_publish(job)
        )
        self._schemas[job.asset] = unify_schemas([self._schemas.get(job.asset), table.schema])
        if merging:
            written = replace(written, data_version=_merged_version(job, written))
        if storage.reads_back_exactly:
            self.cache.put(job.asset, job.partition, written.data_version, table)
        return written, watermark, checks

    def _before_publish(self, job: UnitJob) -> Callable[[], None] | None:
        guard = self.guard
        if guard is None:
            return None
        return lambda: guard(job.asset, job.partition, job.run_id)

    def _schema(self, job: UnitJob) -> Any:
        """The published schema of the asset, asked of the storage once per process (and,
        while nothing was published, again for each unit when other workers may publish)."""
        if self._schemas.get(job.asset) is None and (self.shared or job.asset not in self._schemas):
            storage = self.storage(job.asset)
            self._schemas[job.asset] = storage.published_schema(excluding=job.partition)
        return self._schemas[job.asset]

    def _context(self, job: UnitJob) -> AssetContext:
        partitions = self.graph[job.asset].partitions
        start = end = None
        if job.index is not None and isinstance(partitions, TimePartitions):
            start = partitions.partition_start(job.index)
            end = partitions.partition_end(job.index)
        return AssetContext(
            asset_name=job.asset,
            partition_key=job.partition,
            partition_start=start,
            partition_end=end,
            run_id=job.run_id,
            log=logging.getLogger(f"partita.assets.{job.asset}"),
            watermark=parse_watermark(job.previous_watermark),
        )


def _merged_version(job: UnitJob, written: WriteResult) -> str:
    """An upsert changes the table by the incoming rows: its version chains the previous
    one with theirs, and no rows at all leave it (and everything downstream) unchanged."""
    previous = job.previous_data_version
    if previous is None:
        return written.data_version
    if written.rows == 0:
        return previous
    return hashlib.sha256(f"{previous}:{written.data_version}".encode()).hexdigest()[:16]


def _error_message(job: UnitJob, error: BaseException) -> str:
    where = describe_unit(job.asset, job.partition)
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
