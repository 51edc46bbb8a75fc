"""Undo: read as of a run or time, roll back a run, restore one version, history, prune.

The operations every front end (CLI, Python API) uses on a `Session`. Reads never write;
`run_restores` and `prune` are the writing ones (restores go through
`execution.restore`, leased and recorded like any materialization).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..catalog.records import AttemptStatus, MaterializationRecord, is_run_id
from ..errors import PartitaError, PartitionError, StorageError, UsageError, describe_unit
from ..execution.events import RunListener
from ..execution.report import RunReport, UnitStatus
from ..execution.restore import RestoreReport, RestoreTarget, execute_restores
from ..planning.retention import describe_kept, versions_to_prune
from ..storage.base import RetainedVersion, Storage
from ..storage.registry import open_asset_storage

log = logging.getLogger("partita")

if TYPE_CHECKING:
    import pyarrow as pa

    from .session import Selection, Session


def asset_storage(session: Session, asset: str) -> Storage:
    """The asset's storage, keeping history as its retention says."""
    graph = session.graph
    return open_asset_storage(graph[asset], session.warehouse, graph.retention(asset))


def parse_as_of(text: str) -> tuple[str | None, datetime | None]:
    """`--as-of`: a run id of partita's form (checked first: some read as ISO times too),
    else an ISO date or time (naive means UTC); any other text is taken as a run id."""
    if is_run_id(text):
        return text, None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text, None
    return None, moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_as_of(
    session: Session, asset: str, as_of: str | datetime, partition: str | None = None
) -> pa.Table:
    """The data the asset (or one partition) had just after run `as_of` or at time `as_of`.
    Fails naming every partition whose version then is no longer kept."""
    import pyarrow as pa

    name = session.select(asset)[0]
    run_id, moment = parse_as_of(as_of) if isinstance(as_of, str) else (None, as_of)
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    versions = session.catalog.versions_as_of(name, run_id=run_id, moment=moment)
    when = f"run {run_id}" if run_id else f"{moment.isoformat() if moment else ''}"
    if partition is not None:
        versions = {k: v for k, v in versions.items() if k == partition}
    if not versions:
        what = describe_unit(name, partition)
        raise PartitionError(
            f"{what} had no materialized data as of {when}. Pick a later run or time "
            f"(partita runs lists them)."
        )
    storage = asset_storage(session, name)
    tables, pruned = [], []
    for key in _ordered_keys(session, name, versions):
        try:
            tables.append(storage.read_version(key, versions[key].data_version or ""))
        except StorageError:
            pruned.append(key)
    if pruned:
        shown = ", ".join(str(key) for key in pruned[:10]) + (", ..." if len(pruned) > 10 else "")
        raise StorageError(
            f"asset '{name}' as of {when}: the version of {len(pruned)} partition(s) then is "
            f"no longer kept (pruned, or written before partita kept history): {shown}. "
            f"Read a later point, or keep more history (retain / retain_versions)."
        )
    return pa.concat_tables(tables, promote_options="default")


def _ordered_keys(session: Session, asset: str, keys) -> list[str | None]:
    partitions = session.graph[asset].partitions
    if partitions is None:
        return list(keys)

    def position(key: str | None) -> int:
        try:
            return partitions.index(key)
        except PartitionError:
            return -1

    return sorted(keys, key=position)


def rollback_targets(
    session: Session,
    run_id: str,
    selection: Selection = None,
    first: str | None = None,
    last: str | None = None,
) -> list[RestoreTarget]:
    """For every partition the run replaced (of the selected assets, within the
    inclusive key range `first`..`last` if given), the version it replaced; partitions
    whose data is already that version again are left out."""
    if session.catalog.get_run(run_id) is None:
        raise UsageError(f"There is no run {run_id}. List the runs with: partita runs")
    targets = []
    for asset in session.select(selection):
        history = session.catalog.history(asset)
        states = session.catalog.states(asset)
        for partition, replaced in _replaced_by(history, run_id).items():
            if not _in_range(session, asset, partition, first, last):
                continue
            state = states.get(partition)
            if state is not None and state.data_version == replaced.data_version:
                continue
            targets.append(RestoreTarget(asset, partition, replaced))
    return targets


def _replaced_by(
    history: Sequence[MaterializationRecord], run_id: str
) -> dict[str | None, MaterializationRecord]:
    """Per partition the run published a new version of, the success it replaced."""
    current: dict[str | None, MaterializationRecord] = {}
    replaced: dict[str | None, MaterializationRecord] = {}
    for record in reversed(history):  # oldest first
        if record.status != AttemptStatus.MATERIALIZED or record.data_version is None:
            continue
        before = current.get(record.partition)
        changed = before is not None and before.data_version != record.data_version
        if record.run_id == run_id and changed and record.partition not in replaced:
            replaced[record.partition] = before  # type: ignore[assignment]
        current[record.partition] = record
    return replaced


def _in_range(
    session: Session, asset: str, key: str | None, first: str | None, last: str | None
) -> bool:
    partitions = session.graph[asset].partitions
    if key is None or partitions is None or (first is None and last is None):
        return True
    try:
        index = partitions.index(key)
    except PartitionError:
        return False
    low = partitions.index(first) if first is not None else index
    high = partitions.index(last) if last is not None else index
    return low <= index <= high


def restore_target(
    session: Session, asset: str, partition: str | None, data_version: str
) -> RestoreTarget:
    """The target bringing `partition` back to `data_version`, which it must have had."""
    name = session.select(asset)[0]
    for record in session.catalog.history(name, partition):
        if (
            record.partition == partition
            and record.status == AttemptStatus.MATERIALIZED
            and record.data_version == data_version
        ):
            return RestoreTarget(name, partition, record)
    raise UsageError(
        f"{describe_unit(name, partition)} never had data version {data_version!r}. See its "
        f"versions with: partita history {name}"
        + (f" --partition {partition}" if partition is not None else "")
    )


def run_restores(
    session: Session,
    targets: Sequence[RestoreTarget],
    command: str,
    *,
    wait: bool = True,
    listeners: Iterable[RunListener] = (),
) -> RestoreReport:
    """Restore the targets as one recorded run (see `execution.restore`); the observers
    the project configures (alerts, OpenLineage, unit logs), then `listeners`, hear its
    events as they hear a materialization's."""
    from ..execution.events import Listeners
    from ..execution.materialize import recover_dead_runs
    from ..observability.observers import build_observers

    recover_dead_runs(session.catalog)
    return execute_restores(
        session.graph,
        session.warehouse,
        session.catalog,
        targets,
        command=command,
        wait=wait,
        listener=Listeners([*build_observers(session), *listeners]),
    )


@dataclass(frozen=True)
class VersionEntry:
    """One successful attempt of a partition, newest first in `partition_history`."""

    record: MaterializationRecord
    current: bool
    retained: bool


def partition_history(session: Session, asset: str, partition: str | None) -> list[VersionEntry]:
    """Every successful attempt of the partition, newest first, with whether its data is
    the current one and whether its bytes are still kept."""
    name = session.select(asset)[0]
    if (session.graph[name].partitions is None) != (partition is None):
        raise UsageError(
            f"asset '{name}' is {'not ' if partition is not None else ''}partitioned: "
            f"{'drop' if partition is not None else 'pass'} --partition."
        )
    state = session.catalog.state(name, partition)
    current = state.data_version if state else None
    kept = {
        v.data_version
        for v in asset_storage(session, name).retained_versions()
        if v.partition == partition
    }
    entries = []
    for record in session.catalog.history(name, partition):
        if record.status != AttemptStatus.MATERIALIZED or record.partition != partition:
            continue
        is_current = record.data_version == current
        entries.append(VersionEntry(record, is_current, is_current or record.data_version in kept))
    return entries


@dataclass(frozen=True)
class PrunedVersion:
    asset: str
    version: RetainedVersion


def prune(session: Session, selection: Selection = None, *, now: datetime) -> list[PrunedVersion]:
    """Delete the kept versions the assets' retention no longer keeps at `now`; never the
    version the catalog names as current."""
    pruned = []
    for asset in session.select(selection):
        storage = asset_storage(session, asset)
        retained = storage.retained_versions()
        if not retained:
            continue
        kept = describe_kept(retained, session.catalog.history(asset))
        current = {key: s.data_version for key, s in session.catalog.states(asset).items()}
        retention = session.graph.retention(asset)
        for version in versions_to_prune(kept, current, retention, now):
            if storage.discard_version(version.partition, version.data_version):
                pruned.append(PrunedVersion(asset, version))
    return pruned


def prune_after_run(session: Session, report: RunReport) -> list[PrunedVersion]:
    """Prune the assets a run wrote; a failure to prune is logged, never the run's error."""
    written = sorted({r.asset for r in report.results if r.status == UnitStatus.MATERIALIZED})
    try:
        return prune(session, written, now=datetime.now(UTC)) if written else []
    except PartitaError as error:
        log.warning("could not prune the history of run %s: %s", report.run_id, error)
        return []


@dataclass(frozen=True)
class HistoryUsage:
    """The kept versions of one asset: how many, and the bytes they use."""

    asset: str
    versions: int
    bytes: int


def history_usage(session: Session, selection: Selection = None) -> list[HistoryUsage]:
    """Per selected asset, the kept versions and their size on disk."""
    usage = []
    for asset in session.select(selection):
        retained = asset_storage(session, asset).retained_versions()
        usage.append(HistoryUsage(asset, len(retained), sum(v.bytes for v in retained)))
    return usage
