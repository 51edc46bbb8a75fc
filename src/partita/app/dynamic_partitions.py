"""Adding and removing keys of dynamic partitions, for the CLI and the Python API.

Removing a key whose partitions hold data refuses unless asked to delete the data; then
each storage deletes those partitions with the catalog's removal of the key (and of their
states, history and leases) committed inside: a DuckDB table's deletion commits only if
the catalog's did, and files are removed only after it, so the catalog never claims data
that is gone (files left by a failed removal are orphans the next materialization
overwrites).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..catalog.records import DynamicKeySet
from ..definitions.partitions import MultiPartitions
from ..definitions.partitions.dynamic import bind_dynamic_keys, check_dynamic_keys, dynamic_sets
from ..errors import PartitionError

if TYPE_CHECKING:
    from .session import Session


def add_partitions(
    session: Session,
    name: str,
    keys: Sequence[str],
    *,
    after: str | None = None,
    before: str | None = None,
) -> DynamicKeySet:
    """Add `keys` to the dynamic partitions `name` (at the end, or after/before a key)."""
    check_dynamic_keys(name, keys)
    added = session.catalog.add_dynamic_keys(name, list(keys), after=after, before=before)
    bind_all(session)
    return added


def remove_partitions(
    session: Session, name: str, keys: Sequence[str], *, delete_data: bool = False
) -> DynamicKeySet:
    """Remove `keys` from the dynamic partitions `name`. PartitionError, changing nothing,
    when a partition of one of them holds data and `delete_data` is false."""
    units = _units_with_data(session, name, set(keys))
    if units and not delete_data:
        shown = ", ".join(f"{asset} {partition}" for asset, partition in units[:5])
        more = f" and {len(units) - 5} more" if len(units) > 5 else ""
        raise PartitionError(
            f"cannot remove {', '.join(map(repr, keys))} from the dynamic partitions {name!r}: "
            f"{len(units)} partitions of it hold data ({shown}{more}). Pass --delete-data "
            "(delete_data=True) to delete that data with the keys."
        )
    positions = {
        asset: _value_positions(session.graph[asset].partitions, name)
        for asset in session.graph.order
        if any(d.name == name for d in dynamic_sets(session.graph[asset].partitions))
    }
    removed: list[DynamicKeySet] = []

    def remove_from_catalog() -> None:
        removed.append(
            session.catalog.remove_dynamic_keys(
                name, list(keys), forget=units, key_positions=positions
            )
        )

    by_asset: dict[str, list[str | None]] = {}
    for asset, partition in units:
        by_asset.setdefault(asset, []).append(partition)
    _delete_then(session, list(by_asset.items()), remove_from_catalog)
    bind_all(session)
    return removed[0]


def _delete_then(
    session: Session, deletions: list[tuple[str, list[str | None]]], commit: Callable[[], None]
) -> None:
    """Delete each asset's partitions, nesting the next deletion (and last `commit`) inside
    each storage's `before_commit`: all of them, or (if one fails first) none."""
    if not deletions:
        commit()
        return
    (asset, partitions), rest = deletions[0], deletions[1:]
    session.storage(asset).delete(
        partitions, before_commit=lambda: _delete_then(session, rest, commit)
    )


def bind_all(session: Session) -> list[str]:
    """Bind every dynamic set of the session's graph to the catalog's keys."""
    partitionings = [session.graph[asset].partitions for asset in session.graph.order]
    if not any(dynamic_sets(partitions) for partitions in partitionings):
        return []
    return bind_dynamic_keys(partitionings, session.catalog.dynamic_keys)


def _units_with_data(session: Session, name: str, keys: set[str]) -> list[tuple[str, str]]:
    """(asset, partition) of every published partition that has one of `keys` in set `name`."""
    found = []
    states = session.catalog.all_states()
    for asset in session.graph.order:
        partitions = session.graph[asset].partitions
        dimensions = [d for d in dynamic_sets(partitions) if d.name == name]
        if not dimensions:
            continue
        positions = _value_positions(partitions, name)
        for partition, state in states.get(asset, {}).items():
            if partition is None or state.data_version is None:
                continue
            values = partition.split("|")
            if any(position < len(values) and values[position] in keys for position in positions):
                found.append((asset, partition))
    return sorted(found)


def _value_positions(partitions: object, name: str) -> list[int]:
    """Where in a key the values of the dynamic set `name` are."""
    if isinstance(partitions, MultiPartitions):
        return [
            position
            for position, dimension in enumerate(partitions.dimensions.values())
            if getattr(dimension, "name", None) == name
        ]
    return [0]
