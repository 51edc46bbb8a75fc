"""The catalog's partition states of one asset as columns indexed by partition index.

Planning over millions of asset partitions can't afford one Python object per partition,
so states are NumPy arrays here: a row per partition index, integers only. The catalog
keeps a snapshot of each asset's table (an opaque payload written by `save`) and the
rows changed since, by sequence number; `load_state_tables` reads both and saves the
snapshot back when many rows changed.
"""

from __future__ import annotations

import json
import logging
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from ..catalog.base import Snapshots
from ..catalog.records import AttemptStatus, PartitionState, StateRow
from ..definitions.partitions import MultiPartitions, Partitions
from ..definitions.partitions.dynamic import dynamic_sets
from ..errors import CatalogError, PartitionError
from .state_remap import renumbering

if TYPE_CHECKING:
    from ..graph.graph import AssetGraph

log = logging.getLogger("partita")

NONE, MATERIALIZED_CODE, FAILED_CODE, INTERRUPTED_CODE = 0, 1, 2, 3
_STATUS_CODES = {
    AttemptStatus.MATERIALIZED: MATERIALIZED_CODE,
    AttemptStatus.FAILED: FAILED_CODE,
    AttemptStatus.INTERRUPTED: INTERRUPTED_CODE,
}

ROW = np.dtype(
    [
        ("status", "i1"),  # NONE when the catalog has no row for the partition
        ("published", "?"),  # some attempt published data (data_version is set)
        ("code", "i4"),  # index into StateTable.codes, -1 when none
        ("deps", "i4"),  # the deps_version, also an index into StateTable.codes
        ("published_seq", "i8"),
        ("consumed_seq", "i8"),
        ("materialized_at", "i8"),  # microseconds since the epoch, 0 when never
        ("restored", "?"),  # the current data was brought back by a restore
    ]
)
_CODE_COLUMNS = ("code", "deps")
_FORMAT = 2  # of the encoded snapshot; a snapshot of another format is rebuilt
_HEADER = struct.Struct("<I")  # the length of the JSON header that precedes the rows
_NO_LAYOUT = ""  # matches no snapshot: asks the catalog for every row

# Saving a snapshot rewrites the whole table: worth it once this many rows changed.
SAVE_AFTER_CHANGES = 256

StateSource = Snapshots  # the catalog, as the state tables read and write it


@dataclass
class StateTable:
    """The states of one asset's partitions: `rows[i]` is partition index i (index 0 for an
    unpartitioned asset); `codes` are the code versions `rows["code"]` points into."""

    rows: np.ndarray
    codes: list[str]

    @classmethod
    def empty(cls, length: int = 0) -> StateTable:
        rows = np.zeros(length, dtype=ROW)
        for name in _CODE_COLUMNS:
            rows[name] = -1
        return cls(rows, [])

    def column(self, name: str, length: int) -> np.ndarray:
        """A column over indices [0, length), zero (-1 for codes) past the recorded rows."""
        values = self.rows[name][:length]
        if len(values) == length:
            return values
        filler = -1 if name in _CODE_COLUMNS else 0
        return np.concatenate([values, np.full(length - len(values), filler, values.dtype)])

    def code_index(self, code_version: str) -> int:
        """The code of `code_version` in this table; -2 (matching no row) when no row has it."""
        return self.codes.index(code_version) if code_version in self.codes else -2

    def latest_published(self) -> int | None:
        """The greatest partition index holding published data."""
        published = np.flatnonzero(self.rows["published"])
        return int(published[-1]) if len(published) else None

    def materialized_at(self, index: int) -> datetime | None:
        """When the published data of partition `index` was materialized."""
        if index >= len(self.rows) or not self.rows["published"][index]:
            return None
        micros = int(self.rows["materialized_at"][index])
        return datetime.fromtimestamp(micros / 1_000_000, UTC)

    def apply(self, partitions: Partitions | None, changes: Sequence[StateRow]) -> None:
        """Overwrite the rows of the changed partitions (keys the partitions no longer
        declare are left out: nothing can read them)."""
        if not changes:
            return
        indices = _indices(partitions, [change.partition for change in changes])
        keep = indices >= 0
        if not keep.all():
            indices = indices[keep]
            changes = [change for change, kept in zip(changes, keep, strict=True) if kept]
        if not len(indices):
            return
        self._grow(int(indices.max()) + 1)
        if not self.rows.flags.writeable:
            self.rows = self.rows.copy()
        code_versions = [change.code_version for change in changes]
        deps_versions = [change.deps_version for change in changes]
        codes = {code: position for position, code in enumerate(self.codes)}
        for code in (*code_versions, *deps_versions):
            if code is not None and code not in codes:
                codes[code] = len(self.codes)
                self.codes.append(code)
        rows = self.rows
        rows["status"][indices] = [_STATUS_CODES[change.last_status] for change in changes]
        rows["published"][indices] = [change.has_data for change in changes]
        rows["code"][indices] = [_code(codes, code) for code in code_versions]
        rows["deps"][indices] = [_code(codes, code) for code in deps_versions]
        rows["published_seq"][indices] = [change.published_seq for change in changes]
        rows["consumed_seq"][indices] = [change.consumed_seq for change in changes]
        rows["materialized_at"][indices] = [_micros(change.materialized_at) for change in changes]
        rows["restored"][indices] = [change.restored for change in changes]

    def _grow(self, length: int) -> None:
        if length > len(self.rows):
            grown = StateTable.empty(length).rows  # writable
            grown[: len(self.rows)] = self.rows
            self.rows = grown

    def encode(self) -> bytes:
        header = {"format": _FORMAT, "codes": self.codes, "length": len(self.rows)}
        header = json.dumps(header).encode()
        return _HEADER.pack(len(header)) + header + self.rows.tobytes()

    @classmethod
    def decode(cls, payload: bytes) -> StateTable:
        """The table `encode` wrote; ValueError when the payload is damaged."""
        try:
            (size,) = _HEADER.unpack_from(payload)
            header = json.loads(payload[_HEADER.size : _HEADER.size + size])
            # Read-only over the payload (no copy of millions of rows); `apply` copies it
            # before writing.
            rows = np.frombuffer(payload, dtype=ROW, offset=_HEADER.size + size)
            if header["format"] != _FORMAT or len(rows) != header["length"]:
                raise ValueError("another format, or not as many rows as the header says")
            return cls(rows, [str(code) for code in header["codes"]])
        except (struct.error, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"damaged state snapshot: {error}") from error


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
    if carried is not None:
        table, through, changes = carried
    else:
        payload, through, changes = source.snapshot_and_changes(asset, layout)
        table = StateTable.empty()
        if payload is not None:
            try:
                table = StateTable.decode(payload)
            except ValueError:  # a damaged cache: rebuild it from every row
                changes = source.snapshot_and_changes(asset, _NO_LAYOUT)[2]
    table.apply(partitions, changes)
    if len(changes) >= SAVE_AFTER_CHANGES or carried is not None:
        # Changes come in sequence order: the last one is the newest the table includes.
        through = changes[-1].seq if changes else through
        try:
            source.save_snapshot(asset, layout, through, table.encode())
        except CatalogError as error:  # only a cache: a busy or read-only catalog is fine
            log.debug("could not save the state snapshot of %s: %s", asset, error)
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
    renumbered = renumbering(len(old.rows), old_layout, partitions)
    if renumbered is None:
        return None
    indices, length = renumbered
    table = StateTable.empty(length)
    table.rows[indices] = old.rows
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


def _indices(partitions: Partitions | None, keys: Sequence[str | None]) -> np.ndarray:
    """The partition index of each key; -1 for keys the partitions don't declare."""
    if partitions is None:
        return np.array([0 if key is None else -1 for key in keys], dtype=np.int64)
    if len(keys) < 64:
        return np.array([_index(partitions, key) for key in keys], dtype=np.int64)
    # Many keys: format every declared key once and look them up, instead of parsing each.
    bound = partitions.index_bound()
    if bound is None:  # open-ended time partitions: time keys sort like their indices
        bound = _index(partitions, max(key for key in keys if key is not None)) + 1
    position = {key: index for index, key in enumerate(partitions.keys(0, bound))}
    found = [position.get(key) for key in keys]
    return np.array(
        [
            _index(partitions, key) if index is None else index
            for key, index in zip(keys, found, strict=True)
        ],
        dtype=np.int64,
    )


def _index(partitions: Partitions, key: str | None) -> int:
    if key is None:
        return -1
    try:
        return partitions.index(key)
    except PartitionError:
        return -1


def _code(codes: dict[str, int], code: str | None) -> int:
    return -1 if code is None else codes[code]


def _micros(text: str | None) -> int:
    if text is None:
        return 0
    moment = datetime.fromisoformat(text)
    return round(moment.timestamp() * 1_000_000)
