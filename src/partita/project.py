"""A loaded project: its configuration and validated asset graph; the Python entry point."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalog import open_catalog
from .discovery import ProjectConfig, find_project_root, import_definitions, load_config
from .errors import UsageError
from .graph.graph import AssetGraph, build_graph
from .graph.selection import select
from .planning.targets import PartitionRange

if TYPE_CHECKING:
    import pandas as pd

    from .catalog.records import RunRecord
    from .execution.report import RunReport, UnitResult
    from .planning.freshness import FreshnessResult
    from .planning.plan import Plan
    from .planning.staleness import States
    from .planning.state_table import StateTable
    from .planning.status import AssetStatus
    from .planning.watermarks import WatermarkReport

PartitionArgument = str | tuple[str, str] | None


@dataclass(frozen=True)
class Project:
    """A partita project: where it lives, where its warehouse is, and its asset graph."""

    config: ProjectConfig
    graph: AssetGraph

    @property
    def root(self) -> Path:
        return self.config.root

    @property
    def warehouse(self) -> Path:
        return self.config.warehouse

    def select(self, selections: Sequence[str] | str | None = None) -> list[str]:
        """Asset names matching the selection syntax, in topological order."""
        if isinstance(selections, str):
            selections = [selections]
        return select(self.graph, selections)

    def plan(
        self,
        selections: Sequence[str] | str | None = None,
        partition: PartitionArgument = None,
        *,
        force: bool = False,
        now: datetime | None = None,
        overdue: Mapping[tuple[str, str | None], str] | None = None,
    ) -> Plan:
        """The units a `materialize` with these arguments would run, each with its reason."""
        from .planning.plan import build_plan, tables_needed

        moment = now or datetime.now(UTC)
        selected = self.select(selections)
        tables = self._state_tables(tables_needed(self.graph, selected))
        return build_plan(self.graph, selected, _range(partition), tables, moment, force, overdue)

    def states(self) -> States:
        """The catalog's current state of every recorded asset partition (units a dead run
        was working on count as interrupted, as the next run will find them)."""
        with open_catalog(self.warehouse) as catalog:
            catalog.interrupt_dead_leases(datetime.now(UTC))
            return catalog.all_states()

    def _state_tables(self, assets: Iterable[str]) -> dict[str, StateTable]:
        """The states of `assets` as columns, as `states` counts them."""
        from .planning.state_table import load_state_tables

        with open_catalog(self.warehouse) as catalog:
            catalog.interrupt_dead_leases(datetime.now(UTC))
            return load_state_tables(catalog, self.graph, assets)

    def materialize(
        self,
        selections: Sequence[str] | str | None = None,
        partition: PartitionArgument = None,
        *,
        force: bool = False,
        now: datetime | None = None,
        workers: int = 1,
        order: str = "oldest-first",
        retry_failed: bool = False,
        max_failures: int | None = None,
        wait: bool = True,
        overdue: Mapping[tuple[str, str | None], str] | None = None,
        command: str = "materialize (python)",
        on_plan: Callable[[Plan], None] | None = None,
        on_unit_done: Callable[[UnitResult], None] | None = None,
    ) -> RunReport:
        """Materialize the missing or stale partitions of the selection.

        `partition` is one key, an inclusive `(first, last)` pair, or None for every
        partition up to the latest complete one at `now`. `workers` > 1 runs independent
        units in parallel processes; `order` is `oldest-first` or `newest-first`;
        `retry_failed` runs only units whose last attempt failed; after `max_failures`
        failures no new unit starts (the rest are reported `skipped`). A unit another run
        is working on is waited for, or with `wait=False` reported `locked`.
        """
        from .execution.materialize import run_materialization
        from .execution.runner import ORDERS, RunOptions

        if order not in ORDERS:
            raise UsageError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
        return run_materialization(
            self.graph,
            self.warehouse,
            self.select(selections),
            _range(partition),
            now or datetime.now(UTC),
            command=command,
            options=RunOptions(
                force=force, order=order, max_failures=max_failures, wait_for_locks=wait
            ),
            workers=workers,
            root=self.root,
            retry_failed=retry_failed,
            overdue=overdue,
            on_plan=on_plan or (lambda plan: None),
            on_unit_done=on_unit_done or (lambda result: None),
        )

    def overdue_units(
        self, selections: Sequence[str] | str | None = None, *, now: datetime | None = None
    ) -> dict[tuple[str, str | None], str]:
        """Up-to-date unpartitioned assets whose freshness policy says they are overdue
        (materialized longer than max_lag ago), with the reason to rebuild them. Overdue
        time partitions are already missing or stale, so planning finds them anyway."""
        from .planning.freshness import OVERDUE

        results = self.freshness(selections, now=now)
        return {
            (r.asset, None): f"overdue: {r.reason}"
            for r in results
            if r.verdict == OVERDUE
            and self.graph[r.asset].partitions is None
            and r.reason == "older than max_lag"
        }

    def status(
        self, selections: Sequence[str] | str | None = None, *, now: datetime | None = None
    ) -> list[AssetStatus]:
        """Per selected asset, the state (fresh, stale, missing, failed) of each partition."""
        from .planning.status import build_status

        selected = self.select(selections)
        plan = self.plan(sorted(self.graph.upstream_closure(selected)), now=now)
        with open_catalog(self.warehouse) as catalog:
            failed_checks = catalog.failed_checks()
        return build_status(plan, selected, failed_checks)

    def freshness(
        self,
        selections: Sequence[str] | str | None = None,
        *,
        now: datetime | None = None,
        include_all: bool = False,
    ) -> list[FreshnessResult]:
        """Freshness verdicts (fresh, pending, overdue) of the selected assets with a
        policy; `include_all` adds the others as `no policy`."""
        from .planning.freshness import NO_POLICY, assess
        from .planning.plan import build_plan

        moment = now or datetime.now(UTC)
        selected = self.select(selections)
        upstream = self.graph.upstream_closure(selected)
        tables = self._state_tables(upstream)
        plan = build_plan(self.graph, sorted(upstream), PartitionRange(), tables, moment)
        results = [
            assess(self.graph, name, tables[name], plan.asset_plan(name), moment)
            for name in selected
        ]
        return [r for r in results if include_all or r.verdict != NO_POLICY]

    def watermarks(
        self, selections: Sequence[str] | str | None = None, *, now: datetime | None = None
    ) -> list[WatermarkReport]:
        """Per selected asset: high-water mark, latest partition, complete-through key."""
        from .planning.watermarks import build_watermarks

        moment = now or datetime.now(UTC)
        return build_watermarks(self.graph, self.select(selections), self.states(), moment)

    def runs(self, limit: int | None = None) -> list[RunRecord]:
        """The run history, newest first."""
        with open_catalog(self.warehouse) as catalog:
            return catalog.runs(limit)

    def read(self, asset: str, partition: PartitionArgument = None) -> pd.DataFrame:
        """An asset's data as a DataFrame: one partition, an inclusive (first, last) range
        of partitions, or everything (None)."""
        from .execution.reading import read_asset

        return read_asset(self, asset, _range(partition) if partition else None).to_pandas()

    def storage(self, asset: str) -> Any:
        """The storage object of an asset (for reading its data directly)."""
        from .storage.base import open_asset_storage

        return open_asset_storage(self.graph[self.select(asset)[0]], self.warehouse)


def _range(partition: PartitionArgument) -> PartitionRange:
    if partition is None:
        return PartitionRange()
    if isinstance(partition, str):
        return PartitionRange.single(partition)
    first, last = partition
    return PartitionRange(first, last)


def load_project(path: str | Path | None = None) -> Project:
    """Load the project at `path` (or the nearest one above the current folder).

    Every module under the assets folder is imported and its assets validated; all
    definition problems are raised together as `DefinitionErrors`.
    """
    root = Path(path).resolve() if path is not None else find_project_root(Path.cwd())
    config = load_config(root)
    definitions, import_errors = import_definitions(config)
    graph = build_graph(definitions, root=str(root), import_errors=import_errors)
    return Project(config=config, graph=graph)
