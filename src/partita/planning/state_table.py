"""The catalog's partition states of one asset as columns indexed by partition index.

Planning over millions of asset partitions can't afford one Python object per partition,
so states are NumPy arrays here: a column per field, an entry per partition index,
integers only. The catalog keeps a snapshot of each asset's table (an opaque payload,
`state_codec`) and the rows changed since, by sequence number; `load_state_tables` reads
both and saves the snapshot back when many rows changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from ..catalog.base import Snapshots
from ..catalog.records import PartitionState, StateRow
from ..definitions.partitions import MultiPartitions, Partitions
from ..definitions.partitions.dynamic import dynamic_sets
from ..errors import CatalogError
from . import state_codec, state_columns
from .state_codec import ROW, filler
from .state_columns import FAILED_CODE, INTERRUPTED_CODE, MATERIALIZED_CODE, NONE
from .state_remap import renumbering

if TYPE_CHECKING:
    from ..graph.graph import AssetGraph

log = logging.getLogger("partita")

__all__ = ["FAILED_CODE", "INTERRUPTED_CODE", "MATERIALIZED_CODE", "NONE", "StateTable"]


_NO_LAYOUT = ""  # matches no snapshot: asks the catalog for every row

# Saving a snapshot rewrites the whole table: worth it once this many rows changed.
SAVE_AFTER_CHANGES = 256

StateSource = Snapshots  # the catalog, as the state tables read and write it


@dataclass
class StateTable:
    """The states of one asset's partitions: `columns[name][i]` is partition index i
    (index 0 for an unpartitioned asset), one column per field of `ROW`, all as long as the
    table; `codes` are the code versions the `code` and `deps` columns point into.

    A decoded table's columns may be read-only and narrower than `ROW` (views over the
    snapshot); `apply` widens the ones it writes."""

    columns: dict[str, np.ndarray]
    codes: list[str]
    _padded: dict[tuple[str, int], np.ndarray] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def empty(cls, length: int = 0) -> StateTable:
        return cls(_filled(length), [])

    def __len__(self) -> int:
        return len(self.columns[ROW.names[0]])

    def records(self) -> np.ndarray:
        """The table as one `ROW` record per partition (a copy; for tests and tools)."""
        rows = np.zeros(len(self), dtype=ROW)
        for name in ROW.names:
            rows[name] = self.columns[name]
        return rows

    def column(self, name: str, length: int) -> np.ndarray:
        """A column over indices [0, length), zero (-1 for codes) past the recorded rows.
        Read-only: the same array may be handed to every reader of this table."""
        values = self.columns[name][:length]
        if len(values) == length:
            return values
        padded = self._padded.get((name, length))
        if padded is None:
            padded = np.concatenate(
                [values, np.full(length - len(values), filler(name), values.dtype)]
            )
            padded.flags.writeable = False
            self._padded[(name, length)] = padded
        return padded

    def window(self, name: str, start: int, stop: int) -> np.ndarray:
        """A column over indices [start, stop): a view of the recorded rows, padded (in a
        new array of only the padding's size) past them."""
        values = self.columns[name][start:stop]
        missing = stop - start - len(values)
        if missing <= 0:
            return values
        return np.concatenate([values, np.full(missing, filler(name), values.dtype)])

    def code_index(self, code_version: str) -> int:
        """The code of `code_version` in this table; -2 (matching no row) when no row has it."""
        return self.codes.index(code_version) if code_version in self.codes else -2

    def latest_published(self) -> int | None:
        """The greatest partition index holding published data."""
        published = self.columns["published"]
        if not len(published):
            return None
        last = len(published) - 1 - int(np.argmax(published[::-1]))
        return last if published[last] else None

    def materialized_at(self, index: int) -> datetime | None:
        """When the published data of partition `index` was materialized."""
        if index >= len(self) or not self.columns["published"][index]:
            return None
        micros = int(self.columns["materialized_at"][index])
        return datetime.fromtimestamp(micros / 1_000_000, UTC)

    def apply(self, partitions: Partitions | None, changes: Sequence[StateRow]) -> None:
        """Overwrite the rows of the changed partitions (keys the partitions no longer
        declare are left out: nothing can read them)."""
        if not changes:
            return
        values = state_columns.fields(changes)
        indices = state_columns.partition_indices(partitions, values[0])
        keep = indices >= 0
        if not keep.all():
            indices = indices[keep]
            values = [
                [value for value, kept in zip(field, keep, strict=True) if kept] for field in values
            ]
        if not len(indices):
            return
        self._writable(max(len(self), int(indices.max()) + 1))
        (
            _,
            statuses,
            has_data,
            code_versions,
            published_seq,
            consumed_seq,
            materialized_at,
            _,
            deps_versions,
            restored,
        ) = values
        columns = self.columns
        columns["status"][indices] = state_columns.status_codes(statuses)
        columns["published"][indices] = has_data
        columns["code"][indices] = state_columns.code_indices(self.codes, code_versions)
        columns["deps"][indices] = state_columns.code_indices(self.codes, deps_versions)
        columns["published_seq"][indices] = published_seq
        columns["consumed_seq"][indices] = consumed_seq
        columns["materialized_at"][indices] = state_columns.micros(materialized_at)
        columns["restored"][indices] = restored

    def _writable(self, length: int) -> None:
        """Every column writable, of its `ROW` type and `length` long (padded)."""
        self._padded.clear()
        grown = _filled(length) if length > len(self) else None
        for name in ROW.names:
            values = self.columns[name]
            if grown is not None:
                grown[name][: len(values)] = values
            elif not values.flags.writeable or values.dtype != ROW[name]:
                self.columns[name] = values.astype(ROW[name])
        if grown is not None:
            self.columns = grown

    def encode(self) -> bytes:
        return state_codec.encode(self.columns, self.codes)

    @classmethod
    def decode(cls, payload: bytes) -> StateTable:
        """The table `encode` wrote; ValueError when the payload is damaged."""
        columns, codes = state_codec.decode(payload)
        return cls(columns, codes)


def _filled(length: int) -> dict[str, np.ndarray]:
    """Columns of `length` rows the catalog has no row for."""
    return {name: np.full(length, filler(name), dtype=ROW[name]) for name in ROW.names}


def layout_of(partitions: Partitions | None) -> str:
    """What fixes the key of each index: a snapshot is valid only for the same layout."""
    return "unpartitioned" if partitions is None else partitions.layout()


def load_state_table(source: StateSource, asset: str, partitions: Partitions | None) -> StateTable:
    """The asset's current states: the stored snapshot plus the rows changed since.

    A snapshot of a multi-dimensional layout whose dynamic dimensions have since gained
    keys is renumbered (`state_remap`); one missing, unreadable or of another layout is
    rebuilt from every row. The result is saved back when enough rows changed."""
    layout = layout_of(partitions)
    carried = _carried_over(source, asset, partitions)
    outdated = carried is not None  # the stored snapshot is to be replaced
    if carried is not None:
        table, through, changes = carried
    else:
        payload, through, changes = source.snapshot_and_changes(asset, layout)
        table = StateTable.empty()
        if payload is not None:
            try:
                table = StateTable.decode(payload)
                outdated = state_codec.written_format(payload) != state_codec.FORMAT
            except ValueError:  # a damaged cache: rebuild it from every row
                changes = source.snapshot_and_changes(asset, _NO_LAYOUT)[2]
    table.apply(partitions, changes)
    if len(changes) >= SAVE_AFTER_CHANGES or outdated:
        # Changes come in sequence order: the last one is the newest the table includes.
        through = changes[-1].seq if changes else through
        payload = table.encode()
        try:
            source.save_snapshot(asset, layout, through, payload)
        except CatalogError as error:  # only a cache: a busy or read-only catalog is fine
            log.debug("could not save the state snapshot of %s: %s", asset, error)
        table = StateTable.decode(payload)  # its narrow columns: a fraction of the memory
    return table


def _carried_over(
    source: StateSource, asset: str, partitions: Partitions | None
) -> tuple[StateTable, int, list[StateRow]] | None:
    """The stored snapshot of another layout renumbered for `partitions` (keys appended to
    a dynamic dimension), the sequence it is valid through and the rows changed since;
    None when it can't be."""
    if not isinstance(partitions, MultiPartitions) or not dynamic_sets(partitions):
        return None  # only these renumber when keys are added
    old_layout = source.snapshot_layout(asset)
    if old_layout is None or old_layout == layout_of(partitions):
        return None
    payload, through, changes = source.snapshot_and_changes(asset, old_layout)
    if payload is None:
        return None
    try:
        old = StateTable.decode(payload)
    except ValueError:
        return None
    renumbered = renumbering(len(old), old_layout, partitions)
    if renumbered is None:
        return None
    indices, length = renumbered
    table = StateTable.empty(length)
    for name in ROW.names:
        table.columns[name][indices] = old.columns[name]
    table.codes = list(old.codes)
    return table, through, changes


def load_state_tables(
    source: StateSource, graph: AssetGraph, assets: Iterable[str]
) -> dict[str, StateTable]:
    """The state tables of `assets`."""
    return {name: load_state_table(source, name, graph[name].partitions) for name in assets}


def table_from_states(
    partitions: Partitions | None, states: Mapping[str | None, PartitionState]
) -> StateTable:
    """A table built from partition states (as the catalog returns them one by one)."""
    table = StateTable.empty()
    table.apply(partitions, [state_row(state) for state in states.values()])
    return table


def state_row(state: PartitionState) -> StateRow:
    """The catalog row of a partition state."""
    materialized = state.materialized_at
    return StateRow(
        partition=state.partition,
        last_status=state.last_status,
        has_data=state.data_version is not None,
        code_version=state.code_version,
        published_seq=state.published_seq,
        consumed_seq=state.consumed_seq,
        materialized_at=None if materialized is None else materialized.isoformat(),
        seq=state.seq,
        deps_version=state.deps_version,
        restored=state.restored,
    )
