"""A loaded project: its configuration and validated asset graph; the Python entry point.

`Project` keeps the original API as thin wrappers: each method opens a `Session` (the
application layer every front end uses), asks it, and closes it. For several calls in a
row, or run listeners, use `project.session()` (or `partita.app.open_session`) directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .app.dynamic_partitions import add_partitions, remove_partitions
from .app.requests import PartitionArgument, PlanRequest, RunRequest, partition_range
from .app.requests import selection_tuple as _selection
from .app.session import Session, open_session
from .discovery import ProjectConfig
from .execution.events import RunListener
from .graph.graph import AssetGraph

if TYPE_CHECKING:
    import pandas as pd

    from .catalog.records import IncidentRecord, RunRecord
    from .execution.report import RunReport, UnitResult
    from .planning.freshness import FreshnessResult
    from .planning.plan import Plan
    from .planning.staleness import States
    from .planning.status import AssetStatus
    from .planning.watermarks import WatermarkReport

__all__ = ["PartitionArgument", "Project", "load_project"]


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

    def session(self) -> Session:
        """A session on this project (close it, or use it as a context manager)."""
        return Session(self.config, self.graph)

    def select(self, selections: Sequence[str] | str | None = None) -> list[str]:
        """Asset names matching the selection syntax, in topological order."""
        with self.session() as session:  # (opens the catalog only for dynamic partitions)
            return session.select(selections)

    def add_partitions(
        self,
        name: str,
        keys: Sequence[str],
        *,
        after: str | None = None,
        before: str | None = None,
    ) -> tuple[str, ...]:
        """Add `keys` to the dynamic partitions `name`, at the end or right after/before
        an existing key; returns every key of the set, in order. Known keys are skipped."""
        with self.session() as session:
            return add_partitions(session, name, keys, after=after, before=before).keys

    def remove_partitions(
        self, name: str, keys: Sequence[str], *, delete_data: bool = False
    ) -> tuple[str, ...]:
        """Remove `keys` from the dynamic partitions `name`; returns the remaining keys.
        A PartitionError, changing nothing, when their partitions hold data, unless
        `delete_data`: then the data and its catalog entries go too."""
        with self.session() as session:
            return remove_partitions(session, name, keys, delete_data=delete_data).keys

    def partition_keys(self, name: str) -> tuple[str, ...]:
        """The keys of the dynamic partitions `name`, in order."""
        with self.session() as session:
            return session.catalog.dynamic_keys(name).keys

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
        request = PlanRequest(_selection(selections), partition_range(partition), force, now)
        with self.session() as session:
            return session.plan(_with_overdue(request, overdue))

    def states(self) -> States:
        """The catalog's current state of every recorded asset partition (units a dead run
        was working on count as interrupted, as the next run will find them)."""
        with self.session() as session:
            return session.states()

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
        defer_to: str | None = None,
    ) -> RunReport:
        """Materialize the missing or stale partitions of the selection.

        `partition` is one key, an inclusive `(first, last)` pair, or None for every
        partition up to the latest complete one at `now`. `workers` > 1 runs independent
        units in parallel processes; `order` is `oldest-first` or `newest-first`;
        `retry_failed` runs only units whose last attempt failed; after `max_failures`
        failures no new unit starts (the rest are reported `skipped`). A unit another run
        is working on is waited for, or with `wait=False` reported `locked`. `defer_to`
        names an environment whose warehouse the unselected upstreams are read from
        (`--defer-to`). `on_plan` and
        `on_unit_done` are kept for compatibility: prefer a `RunListener` on a session.
        """
        request = RunRequest(
            selection=_selection(selections),
            partitions=partition_range(partition),
            force=force,
            now=now,
            retry_failed=retry_failed,
            overdue=overdue,
            workers=workers,
            order=order,
            max_failures=max_failures,
            wait=wait,
            command=command,
            defer_to=defer_to,
        )
        with self.session() as session:
            return session.run(request, [_CallbackListener(on_plan, on_unit_done)])

    def overdue_units(
        self, selections: Sequence[str] | str | None = None, *, now: datetime | None = None
    ) -> dict[tuple[str, str | None], str]:
        """Up-to-date unpartitioned assets whose freshness policy says they are overdue
        (materialized longer than max_lag ago), with the reason to rebuild them."""
        with self.session() as session:
            return session.overdue_units(selections, now=now)

    def status(
        self, selections: Sequence[str] | str | None = None, *, now: datetime | None = None
    ) -> list[AssetStatus]:
        """Per selected asset, the state (fresh, stale, missing, failed) of each partition."""
        with self.session() as session:
            return session.status(selections, now=now)

    def freshness(
        self,
        selections: Sequence[str] | str | None = None,
        *,
        now: datetime | None = None,
        include_all: bool = False,
    ) -> list[FreshnessResult]:
        """Freshness verdicts (fresh, pending, overdue) of the selected assets with a
        policy; `include_all` adds the others as `no policy`."""
        with self.session() as session:
            return session.freshness(selections, now=now, include_all=include_all)

    def watermarks(
        self, selections: Sequence[str] | str | None = None, *, now: datetime | None = None
    ) -> list[WatermarkReport]:
        """Per selected asset: high-water mark, latest partition, complete-through key."""
        with self.session() as session:
            return session.watermarks(selections, now=now)

    def runs(self, limit: int | None = None) -> list[RunRecord]:
        """The run history, newest first."""
        with self.session() as session:
            return session.runs(limit)

    def read(
        self, asset: str, partition: PartitionArgument = None, as_of: str | datetime | None = None
    ) -> pd.DataFrame:
        """An asset's data as a DataFrame: one partition, an inclusive (first, last) range
        of partitions, or everything (None). Only materialized partitions are read.
        `as_of` (a run id, or a time) reads the data each partition had then."""
        with self.session() as session:
            return session.read(asset, partition, as_of).to_pandas()

    def storage(self, asset: str) -> Any:
        """The storage object of an asset (for reading its data directly)."""
        return self.session().storage(asset)  # touches no catalog: nothing to close

    def alerts(self, limit: int | None = None, only_open: bool = False) -> list[IncidentRecord]:
        """Alert incidents with their notifications, newest first."""
        with self.session() as session:
            return session.incidents(limit, only_open)

    def stats(
        self,
        selections: Sequence[str] | str | None = None,
        *,
        since: datetime | None = None,
        runs: int = 20,
    ) -> dict[str, Any]:
        """Run statistics as `partita stats --json` prints them."""
        with self.session() as session:
            return session.stats(selections, since=since, runs=runs).to_json()

    def logs(
        self, run_id: str, asset: str | None = None, partition: str | None = None
    ) -> list[dict[str, Any]]:
        """What the units of a run logged and printed, as `partita logs --json` entries."""
        with self.session() as session:
            return session.unit_logs(run_id, asset, partition)


def _with_overdue(
    request: PlanRequest, overdue: Mapping[tuple[str, str | None], str] | None
) -> PlanRequest:
    return replace(request, overdue=overdue) if overdue else request


class _CallbackListener(RunListener):
    """The old `on_plan`/`on_unit_done` callbacks, heard as run events."""

    def __init__(
        self,
        on_plan: Callable[[Plan], None] | None,
        on_unit_done: Callable[[UnitResult], None] | None,
    ) -> None:
        self._on_plan = on_plan
        self._on_unit_done = on_unit_done

    def run_started(self, run_id: str, plan: Plan) -> None:
        if self._on_plan is not None:
            self._on_plan(plan)

    def unit_finished(self, run_id: str, result: UnitResult, record: object) -> None:
        if self._on_unit_done is not None:
            self._on_unit_done(result)


def load_project(path: str | Path | None = None, env: str | None = None) -> Project:
    """Load the project at `path` (or the nearest one above the current folder), in
    environment `env` (`[tool.partita.env.NAME]`; default `$PARTITA_ENV`).

    Every module under the assets folder is imported and its assets validated; all
    definition problems are raised together as `DefinitionErrors`.
    """
    session = open_session(path, env)
    return Project(config=session.config, graph=session.graph)
