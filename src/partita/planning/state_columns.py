"""Catalog rows (`StateRow`s) turned into the columns of a state table, in bulk.

Building the first snapshot of an asset converts every catalog row of it: a million rows
for ten years of 5-minute partitions. Each step here works on a whole field at once
(times parsed by NumPy, keys looked up in one map of the declared keys) instead of on one
row after another.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter

import numpy as np

from ..catalog.records import AttemptStatus, StateRow
from ..definitions.partitions import Partitions
from ..errors import PartitionError

NONE, MATERIALIZED_CODE, FAILED_CODE, INTERRUPTED_CODE = 0, 1, 2, 3
STATUS_CODES = {
    str(AttemptStatus.MATERIALIZED): MATERIALIZED_CODE,
    str(AttemptStatus.FAILED): FAILED_CODE,
    str(AttemptStatus.INTERRUPTED): INTERRUPTED_CODE,
}
_UTC_SUFFIX = "+00:00"  # how the catalog writes its UTC times
_FEW = 64  # fewer keys than this are parsed one by one


def fields(changes: Sequence[StateRow]) -> list[list]:
    """The values of each `StateRow` field, a list per field in the field order."""
    return [list(map(itemgetter(field), changes)) for field in range(len(StateRow._fields))]


def partition_indices(partitions: Partitions | None, keys: Sequence[str | None]) -> np.ndarray:
    """The partition index of each key; -1 for keys the partitions don't declare."""
    if partitions is None:
        return np.array([0 if key is None else -1 for key in keys], dtype=np.int64)
    if len(keys) < _FEW:
        return np.array([_index(partitions, key) for key in keys], dtype=np.int64)
    # Many keys: format every declared key once and look them up, instead of parsing each.
    bound = partitions.index_bound()
    if bound is None:  # open-ended time partitions: time keys sort like their indices
        bound = _index(partitions, max(key for key in keys if key is not None)) + 1
    position = dict(zip(partitions.keys(0, bound), range(bound), strict=True))
    found = list(map(position.get, keys))
    if None in found:  # keys outside the declared ones (or None): parsed one by one
        found = [
            _index(partitions, key) if index is None else index
            for key, index in zip(keys, found, strict=True)
        ]
    return np.array(found, dtype=np.int64)


def _index(partitions: Partitions, key: str | None) -> int:
    if key is None:
        return -1
    try:
        return partitions.index(key)
    except PartitionError:
        return -1


def status_codes(statuses: Sequence[str]) -> list[int]:
    return list(map(STATUS_CODES.__getitem__, statuses))


def code_indices(codes: list[str], versions: Sequence[str | None]) -> list[int]:
    """The index in `codes` of each version (-1 for None), appending new ones to `codes`."""
    known: dict[str | None, int] = {code: position for position, code in enumerate(codes)}
    known[None] = -1
    for version in dict.fromkeys(versions):  # new ones in the order they first appear
        if version not in known:
            known[version] = len(codes)
            codes.append(version)  # type: ignore[arg-type]  # None is known already
    return list(map(known.__getitem__, versions))


def micros(texts: Sequence[str | None]) -> np.ndarray:
    """Microseconds since the epoch of ISO-8601 times (0 for None), exactly: the UTC times
    the catalog writes are parsed by NumPy, any other offset one by one."""
    naive = [
        text[: -len(_UTC_SUFFIX)] if text is not None and text.endswith(_UTC_SUFFIX) else "NaT"
        for text in texts
    ]
    values = np.array(naive, dtype="datetime64[us]").astype(np.int64)
    for position in np.flatnonzero(values == np.iinfo(np.int64).min).tolist():
        values[position] = micros_of(texts[position])
    return values


def micros_of(text: str | None) -> int:
    """Microseconds since the epoch of one ISO-8601 time (0 for None)."""
    if text is None:
        return 0
    moment = datetime.fromisoformat(text)
    return round(moment.timestamp() * 1_000_000)
