"""Executing one unit: load its inputs, call the asset function with retries, check what it
returned, write it. Runs in the runner's process or in a worker process; it never touches
the catalog, so the runner records every outcome in one place."""

from __future__ import annotations

import hashlib
import logging
import os
import time
import traceback as tracebacks
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..catalog.records import CheckResult
from ..definitions.context import AssetContext
from ..definitions.partitions.multi import dimension_values, time_interval
from ..errors import describe_unit, unit_label
from ..faults import fault_point
from ..graph.graph import AssetGraph
from ..planning.staleness import UpstreamRead
from ..planning.watermarks import max_watermark, parse_watermark
from ..processes import this_host
from ..secrets import mask
from ..storage.base import Storage, WriteResult
from ..storage.registry import open_asset_storage
from ..storage.schemas import unify_schemas
from .cache import TableCache
from .io import check_upstream_published, load_inputs, read_upstream, to_arrow
from .observing import observe
from .publishing import LeaseLostError
from .quality import check_schema, run_checks
from .quarantine import apply_quarantines, write_quarantine
from .resources import ResourceSet
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
    env: str | None = None  # the environment the project is loaded in (`--env`)
    # Upstream assets read from another environment's warehouse (`--defer-to`): pairs of
    # (asset, warehouse folder).
    deferred: tuple[tuple[str, str], ...] = ()
    # Upstream tables the coordinator read for a worker, by asset: those in storages only
    # one process may open (see `Storage.single_process`).
    inputs: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class PendingWrite:
    """A unit's audited output, ready to publish (a worker leaves it to the coordinator
    for a storage only one process may open)."""

    table: Any  # pa.Table, canonical
    watermark: str | None
    checks: tuple[CheckResult, ...]
    set_aside: Any = None  # pa.Table of the rows quarantines set aside; None without any
    set_aside_count: int | None = None


@dataclass(frozen=True)
class _Published:
    written: WriteResult
    quarantined: int | None
    quarantine_location: str | None


TRACEBACK_CHARS = 20_000  # the end of a longer traceback is kept: it names the failing line


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
    pending: PendingWrite | None = None  # computed by a worker, for the coordinator to write
    # With `checks.quarantine`: rows set aside and where (relative to the warehouse).
    quarantined: int | None = None
    quarantine_location: str | None = None
    traceback: str | None = None  # of a failure, secrets masked, at most TRACEBACK_CHARS
    worker: str | None = None  # "host:pid" of the process that executed the job

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
    # Runs jobs for a coordinator in another process (a pool worker): other processes of
    # the run publish too, and single-process storages are left to the coordinator.
    remote: bool = False
    env: str | None = None  # the environment the project was loaded in, for worker processes
    resource_config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    _resources: ResourceSet | None = None
    _storages: dict[str, Storage] = field(default_factory=dict)
    _foreign: dict[tuple[str, str], Storage] = field(default_factory=dict)  # deferred reads
    _opened: set[str] = field(default_factory=set)
    _schemas: dict[str, Any] = field(default_factory=dict)

    def storage(self, asset: str) -> Storage:
        if asset not in self._storages:
            self._storages[asset] = open_asset_storage(
                self.graph[asset], self.warehouse, self.graph.retention(asset)
            )
        return self._storages[asset]

    def run_storage(self, asset: str, run_id: str) -> Storage:
        """The asset's storage, opened for run `run_id` on first use (see `close`)."""
        storage = self.storage(asset)
        if asset not in self._opened:
            storage.open(run_id, shared=self.remote)
            self._opened.add(asset)
        return storage

    @property
    def resources(self) -> ResourceSet:
        """This process's resources, built on first use and closed with `close`."""
        if self._resources is None:
            self._resources = ResourceSet(self.graph.resources, self.resource_config)
        return self._resources

    def close(self) -> None:
        """Close every storage opened for the run (a DuckDB file held open, say), then the
        resources built in this process."""
        opened, self._opened = self._opened, set()
        try:
            for asset in sorted(opened):
                self._storages[asset].close()
        finally:
            if self._resources is not None:
                self._resources.close()

    def read_upstream(self, reads: list[UpstreamRead], warehouse: str | None = None) -> Any:
        """One upstream asset's partitions for a unit; through the cache when what the
        storage wrote reads back exactly. `warehouse` reads another environment's data
        (never written, never cached)."""
        asset = reads[0].asset
        if warehouse is not None:
            key = (asset, warehouse)
            if key not in self._foreign:
                self._foreign[key] = open_asset_storage(self.graph[asset], Path(warehouse))
            return read_upstream(reads, self._foreign[key], None)
        storage = self.storage(asset)
        return read_upstream(reads, storage, self.cache if storage.reads_back_exactly else None)

    def with_inputs(self, job: UnitJob) -> UnitJob:
        """`job` carrying the upstream data a worker may not read itself: what it reads
        from storages only one process may open, read here by the coordinator (a
        deferred upstream is another environment's, which the worker opens itself)."""
        deferred = dict(job.deferred)
        by_asset: dict[str, list[UpstreamRead]] = {}
        for read in job.reads:
            if read.asset not in deferred and self.storage(read.asset).single_process:
                by_asset.setdefault(read.asset, []).append(read)
        if not by_asset:
            return job
        inputs = tuple((asset, self.read_upstream(reads)) for asset, reads in by_asset.items())
        return replace(job, inputs=inputs)

    def finish(self, job: UnitJob, outcome: UnitOutcome) -> UnitOutcome:
        """In the coordinator: publish what a worker left pending (see `PendingWrite`)."""
        pending = outcome.pending
        if pending is None:
            return outcome
        clock = time.perf_counter()
        try:
            published = self._publish(job, pending)
        except LeaseLostError as error:
            return replace(outcome, pending=None, error=str(error), lease_lost=True)
        except Exception as error:
            failed = failed_outcome(job, error)
            return replace(
                failed, started=outcome.started, attempts=outcome.attempts, worker=outcome.worker
            )
        duration = outcome.duration_s + time.perf_counter() - clock
        finished = replace(outcome, finished=datetime.now(UTC), duration_s=duration)
        return _with_published(finished, published)

    def execute(self, job: UnitJob) -> UnitOutcome:
        """Materialize the unit; failures become an outcome with an error message. A
        KeyboardInterrupt propagates. What the unit logs and prints is kept in the
        warehouse (see `unit_logs`)."""
        with UnitLogCapture(job.run_id, job.asset, job.partition) as capture:
            outcome = replace(self._execute(job, capture.attempt), worker=worker_id())
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
            computed, published = call_with_retry(
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
            failed = failed_outcome(job, error)
            return replace(
                failed, started=started, attempts=attempts, duration_s=time.perf_counter() - clock
            )
        outcome = UnitOutcome(
            started,
            datetime.now(UTC),
            attempts,
            time.perf_counter() - clock,
            watermark=computed.watermark,
            checks=_masked(computed.checks),
        )
        if published is None:
            return replace(outcome, pending=computed)
        return _with_published(outcome, published)

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
            f"version {job.code_version}, but the project loaded from {self.root or job.root} "
            f"has code version {definition.code_version} (the asset's code changed while the "
            "run was going, or this worker loaded another copy of the project). Run the "
            "command again to materialize it with the current code (on a cluster: after "
            "updating the workers' copy)."
        )

    def _attempt(self, job: UnitJob) -> tuple[PendingWrite, _Published | None]:
        """Compute and audit, then publish: nothing is written unless the new data passes.
        In a worker, data for a storage only the coordinator opens is left pending."""
        definition = self.graph[job.asset]
        if definition.observable:  # an observation: a data version, nothing stored
            observed = observe(definition, self._context(job))
            return PendingWrite(None, None, ()), _Published(observed, None, None)
        computed = self._compute(job)
        if self.remote and self.storage(job.asset).single_process:
            return computed, None
        return computed, self._publish(job, computed)

    def _compute(self, job: UnitJob) -> PendingWrite:
        """Call the asset, then audit its output in canonical form: quarantines set rows
        aside, checks run on the rest, the watermark is read."""
        definition = self.graph[job.asset]
        storage = self.run_storage(job.asset, job.run_id)
        # What a later read returns: what is checked, hashed, cached and written.
        table = storage.canonical(self._call(job), job.partition)
        where = describe_unit(job.asset, job.partition)
        quarantined = apply_quarantines(where, definition.checks, table)
        table = quarantined.kept
        watermark = watermark_of(table, definition.watermark)
        if storage.merges:
            # Upserted rows join the rows already stored: the mark can only move forward.
            watermark = max_watermark([job.previous_watermark, watermark])
        checks = run_checks(where, definition.checks, table, quarantined.results)
        return PendingWrite(table, watermark, checks, quarantined.rows, quarantined.count)

    def _call(self, job: UnitJob) -> Any:
        """Call the asset function with its inputs, context and resources; its result as
        an Arrow table."""
        definition = self.graph[job.asset]
        reads = list(job.reads)
        check_upstream_published(job.asset, job.partition, reads)
        with _LazyDuckDB() as relations:
            arguments = load_inputs(
                definition,
                reads,
                self._reader(job),
                relations.connection,
                [d.parameter for d in self.graph.dependencies[job.asset] if d.parameter],
            )
            if definition.wants_context:
                arguments["context"] = self._context(job)
            for parameter in definition.parameters:
                if parameter.name in self.graph.resources:
                    arguments[parameter.name] = self.resources.get(parameter.name)
            value = definition.fn(**arguments)
            fault_point("asset")
            # Inside the block: a returned DuckDB relation needs its connection open.
            return to_arrow(job.asset, job.partition, value)

    def _reader(self, job: UnitJob) -> Callable[[list[UpstreamRead]], Any]:
        """Reads one upstream asset for `job`: what the coordinator sent, another
        environment's warehouse (`--defer-to`), or this one."""
        sent = dict(job.inputs)
        deferred = dict(job.deferred)

        def read(reads: list[UpstreamRead]) -> Any:
            asset = reads[0].asset
            return sent[asset] if asset in sent else self.read_upstream(reads, deferred.get(asset))

        return read

    def _publish(self, job: UnitJob, computed: PendingWrite) -> _Published:
        """Check the schema against what is published, write (fenced by the guard), then
        write the rows quarantines set aside."""
        definition = self.graph[job.asset]
        storage = self.run_storage(job.asset, job.run_id)
        table = computed.table
        merging = storage.merges
        evolve = definition.schema == "evolve"
        if definition.partitions is not None or merging:
            where = describe_unit(job.asset, job.partition)
            check_schema(where, storage.location(), self._schema(job), table.schema, evolve)
        written = storage.write(
            job.partition, table, evolve=evolve, before_publish=self._before_publish(job)
        )
        location = None
        if computed.set_aside is not None:  # after the data: a lost lease sets nothing aside
            location = write_quarantine(
                definition, self.warehouse, job.partition, computed.set_aside
            )
        self._schemas[job.asset] = unify_schemas([self._schemas.get(job.asset), table.schema])
        if merging:
            written = replace(written, data_version=_merged_version(job, written))
        if storage.reads_back_exactly:
            self.cache.put(job.asset, job.partition, written.data_version, table)
        return _Published(written, computed.set_aside_count, location)

    def _before_publish(self, job: UnitJob) -> Callable[[], None] | None:
        guard = self.guard
        if guard is None:
            return None
        return lambda: guard(job.asset, job.partition, job.run_id)

    def _schema(self, job: UnitJob) -> Any:
        """The published schema of the asset, asked of the storage once per process (and,
        while nothing was published, again for each unit when other workers may publish)."""
        if self._schemas.get(job.asset) is None and (self.remote or job.asset not in self._schemas):
            storage = self.storage(job.asset)
            self._schemas[job.asset] = storage.published_schema(excluding=job.partition)
        return self._schemas[job.asset]

    def _context(self, job: UnitJob) -> AssetContext:
        partitions = self.graph[job.asset].partitions
        interval = None if job.index is None else time_interval(partitions, job.index)
        start, end, duration = interval or (None, None, None)
        return AssetContext(
            asset_name=job.asset,
            partition_key=job.partition,
            partition_start=start,
            partition_end=end,
            run_id=job.run_id,
            log=logging.getLogger(f"partita.assets.{job.asset}"),
            watermark=parse_watermark(job.previous_watermark),
            partition_duration=duration,
            partition_keys=dimension_values(partitions, job.partition),
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


def failed_outcome(job: UnitJob, error: Exception) -> UnitOutcome:
    """The outcome of a job that failed with `error` (logged with its traceback for
    --debug); secrets in the message are masked, since errors are shown and recorded."""
    message = mask(_error_message(job, error))
    log.debug("%s", message, exc_info=error)
    moment = datetime.now(UTC)
    checks = _masked(getattr(error, "results", ()))
    trace = mask("".join(tracebacks.format_exception(error)))[-TRACEBACK_CHARS:]
    return UnitOutcome(moment, moment, 0, 0.0, error=message, checks=checks, traceback=trace)


def worker_id() -> str:
    """This process as a worker of a run's timeline: "host:pid"."""
    return f"{this_host()}:{os.getpid()}"


def _with_published(outcome: UnitOutcome, published: _Published) -> UnitOutcome:
    written = published.written
    return replace(
        outcome,
        pending=None,
        rows=written.rows,
        bytes=written.bytes,
        data_version=written.data_version,
        quarantined=published.quarantined,
        quarantine_location=published.quarantine_location,
    )


def _masked(checks: tuple[CheckResult, ...]) -> tuple[CheckResult, ...]:
    return tuple(replace(c, message=mask(c.message)) if c.message else c for c in checks)


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
