"""The session: one loaded project and one catalog handle, used by every front end.

The CLI and the Python API (and later a web UI or a daemon) ask a session; they only parse
and render. Read paths (plan, status, freshness, watermarks, runs, read) never write to
the catalog: units leased by runs that died count as interrupted in memory, as the next
run will record them. Only `run` writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..catalog import open_catalog
from ..catalog.records import AttemptStatus, PartitionState
from ..discovery import ProjectConfig, find_project_root, load_config, load_graph
from ..errors import UsageError
from ..graph.graph import AssetGraph
from ..graph.selection import select
from ..planning.reasons import ReasonKind
from ..planning.targets import PartitionRange, Where
from .dynamic_partitions import bind_all
from .requests import PartitionArgument, PlanRequest, RunRequest, partition_range, selection_tuple

if TYPE_CHECKING:
    import pyarrow as pa

    from ..catalog.base import Catalog
    from ..catalog.records import IncidentRecord, QuarantineRecord, RunRecord
    from ..execution.events import RunListener
    from ..execution.report import RunReport
    from ..observability.stats import Statistics
    from ..planning.freshness import FreshnessResult
    from ..planning.plan import Plan
    from ..planning.staleness import States, Unit
    from ..planning.state_table import StateTable
    from ..planning.status import AssetStatus
    from ..planning.watermarks import WatermarkReport
    from .deferral import Deferral

Selection = Sequence[str] | str | None


class Session:
    """A project's graph and warehouse with one catalog handle, opened on first use and
    closed with the session (use it as a context manager)."""

    def __init__(
        self,
        config: ProjectConfig,
        graph: AssetGraph,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.graph = graph
        self._sleep = sleep  # between retries of a unit; tests pass a fake
        self._catalog: Catalog | None = None
        bind_all(self)  # dynamic partitions take their keys from the catalog

    @property
    def root(self) -> Path:
        return self.config.root

    @property
    def warehouse(self) -> Path:
        return self.config.warehouse

    @property
    def catalog(self) -> Catalog:
        """The warehouse's catalog, opened (and created if needed) on first use."""
        if self._catalog is None:
            self._catalog = open_catalog(self.warehouse, self.config.catalog)
        return self._catalog

    def close(self) -> None:
        """Close the catalog handle, if open. Safe to call twice."""
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the graph ---

    def select(self, selection: Selection = None) -> list[str]:
        """Asset names matching the selection syntax, in topological order."""
        return select(self.graph, list(selection_tuple(selection)))

    def assets(self, selection: Selection = None, *, now: datetime) -> list[dict[str, Any]]:
        """A summary of each selected asset (partitions at `now`, storage, deps, group)."""
        from ..graph.lineage import asset_summary

        return [asset_summary(self.graph, name, now) for name in self.select(selection)]

    def lineage(self, selection: Selection = None, *, fmt: str, now: datetime) -> str:
        """How the selected assets depend on each other, as text, mermaid, dot or JSON."""
        from ..graph.lineage import render_lineage

        return render_lineage(self.graph, self.select(selection), fmt, now)

    # --- reading the catalog (never writes) ---

    def plan(self, request: PlanRequest) -> Plan:
        """The units a run of `request` would run, each with its reason."""
        moment = request.now or datetime.now(UTC)
        return self._plan(request, moment, self._overdue(request, moment))

    def states(self) -> States:
        """The current state of every recorded asset partition; units a dead run was
        working on count as interrupted, as the next run will record them."""
        states = {asset: dict(by_key) for asset, by_key in self.catalog.all_states().items()}
        for asset, partition, state in self._dead_units():
            states.setdefault(asset, {})[partition] = state
        return states

    def status(
        self,
        selection: Selection = None,
        *,
        now: datetime | None = None,
        needs_work_limit: int | None = None,
        where: Where = (),
    ) -> list[AssetStatus]:
        """Per selected asset, the state (fresh, stale, missing, failed) of each partition;
        with `needs_work_limit`, each lists at most that many partitions that need work
        (counts and ranges still cover every partition); `where` keeps the partitions
        with those values of their dimensions (`--where region=eu`)."""
        from ..planning.status import build_status, restrict_where

        selected = self.select(selection)
        upstream = sorted(self.graph.upstream_closure(selected))
        plan = self.plan(PlanRequest(selection=tuple(upstream), now=now))
        if where:
            plan = restrict_where(plan, [self.graph[name] for name in selected], where)
        return build_status(plan, selected, self.catalog.failed_checks(), needs_work_limit)

    def freshness(
        self,
        selection: Selection = None,
        *,
        now: datetime | None = None,
        include_all: bool = False,
        where: Where = (),
    ) -> list[FreshnessResult]:
        """Freshness verdicts (fresh, pending, overdue) of the selected assets with a
        policy; `include_all` adds the others as `no policy`; `where` judges only the
        combinations with those values of their dimensions."""
        from ..planning.freshness import Verdict, assess
        from ..planning.plan import build_plan
        from ..planning.targets import kept_combinations

        moment = now or datetime.now(UTC)
        selected = self.select(selection)
        upstream = self.graph.upstream_closure(selected)
        tables = self._state_tables(upstream)
        plan = build_plan(self.graph, sorted(upstream), PartitionRange(), tables, moment)
        kept = kept_combinations([self.graph[name] for name in selected], where)
        results = [
            assess(self.graph, name, tables[name], plan.asset_plan(name), moment, kept.get(name))
            for name in selected
        ]
        return [r for r in results if include_all or r.verdict != Verdict.NO_POLICY]

    def overdue_units(
        self, selection: Selection = None, *, now: datetime | None = None
    ) -> dict[Unit, str]:
        """Up-to-date unpartitioned assets whose freshness policy says they are overdue
        (materialized longer than max_lag ago), with the reason to rebuild them. Overdue
        time partitions are already missing or stale, so planning finds them anyway."""
        from ..planning.freshness import OLDER_THAN_MAX_LAG, Verdict

        return {
            (r.asset, None): f"overdue: {r.reason}"
            for r in self.freshness(selection, now=now)
            if r.verdict == Verdict.OVERDUE
            and self.graph[r.asset].partitions is None
            and r.reason == OLDER_THAN_MAX_LAG
        }

    def watermarks(
        self, selection: Selection = None, *, now: datetime | None = None
    ) -> list[WatermarkReport]:
        """Per selected asset: high-water mark, latest partition, complete-through key."""
        from ..planning.watermarks import build_watermarks

        moment = now or datetime.now(UTC)
        return build_watermarks(self.graph, self.select(selection), self.states(), moment)

    def runs(self, limit: int | None = None) -> list[RunRecord]:
        """The run history, newest first."""
        return self.catalog.runs(limit)

    def read(
        self,
        asset: str,
        partition: PartitionArgument | PartitionRange = None,
        as_of: str | datetime | None = None,
    ) -> pa.Table:
        """An asset's published data: one partition, an inclusive (first, last) range, or
        everything (None). Only partitions the catalog records as materialized are read.
        `as_of` (a run id or a time) reads the data each partition had then instead."""
        from ..execution.reading import read_asset

        if as_of is not None:
            from .undo import read_as_of

            if partition is not None and not isinstance(partition, str):
                raise UsageError("as_of reads one partition or the whole asset, not a range.")
            return read_as_of(self, asset, as_of, partition)

        requested = partition if isinstance(partition, PartitionRange) else None
        if partition is not None and requested is None:
            requested = partition_range(partition)  # type: ignore[arg-type]
        name = self.select(asset)[0]
        return read_asset(self.graph, self.warehouse, self.catalog, name, requested)

    def quarantines(self, selection: Selection = None) -> list[QuarantineRecord]:
        """The quarantine records (`checks.quarantine`) of the selected assets' units."""
        selected = set(self.select(selection))
        return [r for r in self.catalog.quarantines() if r.asset in selected]

    def read_quarantine(self, asset: str, partition: str | None = None) -> pa.Table:
        """The rows an asset's quarantines set aside (of one partition, or of all), with
        the columns `_quarantine_check` and `_quarantine_reason`."""
        from ..execution.quarantine import read_quarantine

        name = self.select(asset)[0]
        records = self.catalog.quarantines(name)
        return read_quarantine(self.graph[name], self.warehouse, records, partition)

    def storage(self, asset: str) -> Any:
        """The storage object of an asset (for reading its data directly)."""
        from ..storage.registry import open_asset_storage

        return open_asset_storage(self.graph[self.select(asset)[0]], self.warehouse)

    # --- observing (alerts, statistics, unit logs; see `partita.observability`) ---

    def incidents(self, limit: int | None = None, only_open: bool = False) -> list[IncidentRecord]:
        """Alert incidents with their notifications, newest first (only open ones)."""
        if only_open:
            return self.catalog.open_incidents()[::-1][:limit]
        return self.catalog.incidents(limit)

    def stats(
        self, selection: Selection = None, *, since: datetime | None = None, runs: int = 20
    ) -> Statistics:
        """Run statistics of the selected assets and the latest `runs` runs."""
        from ..observability.stats import build_statistics

        return build_statistics(
            self.catalog.history(), self.catalog.runs(runs), self.select(selection), since=since
        )

    def unit_logs(
        self, run_id: str, asset: str | None = None, partition: str | None = None
    ) -> list[dict[str, Any]]:
        """What the units of a run logged and printed (of one asset, one partition)."""
        from ..execution.unit_logs import read_unit_logs

        if self.catalog.get_run(run_id) is None:
            raise UsageError(f"there is no run {run_id!r}; `partita runs` lists the run ids.")
        name = None if asset is None else self.select(asset)[0]
        return read_unit_logs(self.warehouse, run_id, name, partition)

    # --- running (the one path that writes) ---

    def run(self, request: RunRequest, listeners: Iterable[RunListener] = ()) -> RunReport:
        """Materialize the missing or stale units of the request and record the run;
        `listeners` hear the run's events, after the observers the project configures
        (alerts, OpenLineage, unit logs; see `observability.observers`). Ctrl-C records
        the run as interrupted and propagates; an error after the run started raises
        `MaterializationError` carrying the report."""
        from ..execution.events import Listeners
        from ..execution.materialize import RunContext, execute_plan, recover_dead_runs
        from ..execution.runner import ORDERS, RunOptions
        from ..observability.observers import build_observers

        if request.order not in ORDERS:
            raise UsageError(f"order must be one of {', '.join(ORDERS)}, not {request.order!r}")
        moment = request.now or datetime.now(UTC)
        recover_dead_runs(self.catalog)
        overdue = self._overdue(request, moment)
        deferral = self._deferral(request)
        plan = self._plan(request, moment, overdue, deferral)
        options = RunOptions(
            force=request.force,
            order=request.order,
            max_failures=request.max_failures,
            wait_for_locks=request.wait,
            catch_up=frozenset(overdue),
            pools=self.config.pools,
        )
        report = execute_plan(
            self.graph,
            self.warehouse,
            self.catalog,
            plan,
            command=request.command,
            options=options,
            context=RunContext(
                root=self.config.root,
                env=self.config.env,
                resources=self.config.resources,
                executor=request.executor or self.config.executor,
                workers=request.workers,
                catalog_url=self.config.catalog,
                deferred=None if deferral is None else (deferral.warehouse, deferral.states),
            ),
            listener=Listeners([*build_observers(self, request.now), *listeners]),
            sleep=self._sleep,
        )
        from .undo import prune_after_run

        prune_after_run(self, report)
        return report

    def deferral(self, request: PlanRequest) -> Deferral | None:
        """What a run of `request` reads from the environment it defers to (None without
        `defer_to`): the deferred upstream assets and the ones that could not be."""
        return self._deferral(request)

    # --- internals ---

    def _overdue(self, request: PlanRequest, moment: datetime) -> dict[Unit, str]:
        overdue = dict(request.overdue or {})
        if request.catch_up:
            overdue.update(self.overdue_units(request.selection, now=moment))
        return overdue

    def _deferral(self, request: PlanRequest) -> Deferral | None:
        if request.defer_to is None:
            return None
        from .deferral import build_deferral

        selected = self.select(request.selection)
        return build_deferral(self.config, self.graph, selected, request.defer_to, self.catalog)

    def _plan(
        self,
        request: PlanRequest,
        moment: datetime,
        overdue: Mapping[Unit, str],
        deferral: Deferral | None = None,
    ) -> Plan:
        from ..planning.plan import build_plan, tables_needed
        from ..planning.state_table import table_from_states

        selected = self.select(request.selection)
        tables = self._state_tables(tables_needed(self.graph, selected))
        if request.defer_to is not None and deferral is None:
            deferral = self._deferral(request)
        for asset, states in (deferral.states if deferral else {}).items():
            tables[asset] = table_from_states(self.graph[asset].partitions, states)
        plan = build_plan(
            self.graph,
            selected,
            request.partitions,
            tables,
            moment,
            request.force,
            overdue or None,
        )
        if request.only is not None:
            plan = plan.restricted_to_units(request.only)
        return plan.restricted_to({ReasonKind.FAILED}) if request.retry_failed else plan

    def _state_tables(self, assets: Iterable[str]) -> dict[str, StateTable]:
        """The state tables of `assets`, with the units of dead runs counted interrupted."""
        from ..planning.state_table import load_state_tables, state_row

        tables = load_state_tables(self.catalog, self.graph, assets)
        for asset, _, state in self._dead_units():
            if asset in tables:
                tables[asset].apply(self.graph[asset].partitions, [state_row(state)])
        return tables

    def _dead_units(self) -> list[tuple[str, str | None, PartitionState]]:
        """The state each unit leased by a dead run will have once the next run records
        it as interrupted (published data kept), computed without writing."""
        now = datetime.now(UTC)  # liveness is about the wall clock, not the request's now
        dead = self.catalog.dead_leases(now)
        if not dead:
            return []
        states, _ = self.catalog.read_units((lease.asset, lease.partition) for lease in dead)
        units = []
        for lease in dead:
            state = states.get(lease.asset, {}).get(lease.partition)
            if state is None:  # nothing recorded yet: an interrupted first attempt
                state = PartitionState(
                    partition=lease.partition,
                    last_status=AttemptStatus.INTERRUPTED,
                    data_version=None,
                    code_version=None,
                    inputs=(),
                    materialized_at=None,
                    last_attempt_at=now,
                    watermark=None,
                    rows=None,
                    error=lease.error,
                )
            else:
                state = replace(
                    state,
                    last_status=AttemptStatus.INTERRUPTED,
                    last_attempt_at=now,
                    error=lease.error,
                )
            units.append((lease.asset, lease.partition, state))
        return units


def open_session(path: str | Path | None = None, env: str | None = None) -> Session:
    """A session on the project at `path` (or the nearest one above the current folder),
    in environment `env` (default: `$PARTITA_ENV`, else the plain `[tool.partita]`).

    Every module under the assets folder is imported and its assets validated; all
    definition problems are raised together as `DefinitionErrors`.
    """
    root = Path(path).resolve() if path is not None else find_project_root(Path.cwd())
    config = load_config(root, env)
    return Session(config, load_graph(config))
