"""Dynamic partitions: keys that live in the catalog, added and removed at run time."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from partita.errors import DefinitionError, PartitionError

from .base import Partitions

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_SHOWN_KEYS = 10


class DynamicPartitions(Partitions):
    """Partitions whose keys are kept in the catalog under `name`, in an order you control:
    `partita partitions add customers acme globex` (or `project.add_partitions(...)`).

    Key i is the i-th key of the set. Adding keys at the end keeps every index, so nothing
    planned or recorded by index moves; placing keys before others or removing keys moves
    indices, which the layout notes. The definition holds no keys until a session binds
    the catalog's keys to it (every command does)."""

    kind = "dynamic"
    hive_key = "partition"

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise DefinitionError(
                f"invalid dynamic partitions: name {name!r} is not a plain name; use letters, "
                "digits, '_', '-' and '.', such as DynamicPartitions('customers')"
            )
        self.name = name
        self._keys: tuple[str, ...] = ()
        self._positions: dict[str, int] = {}
        self._generation = 0

    def bind(self, keys: Sequence[str], generation: int) -> None:
        """Take the catalog's keys of this set (in order) and its generation."""
        self._keys = tuple(keys)
        self._positions = {key: position for position, key in enumerate(self._keys)}
        self._generation = generation

    @property
    def signature(self) -> tuple[int, int]:
        """Changes whenever the keys do: (generation, number of keys)."""
        return self._generation, len(self._keys)

    def count(self, now: datetime | None = None) -> int:
        """The number of keys; `now` is ignored."""
        return len(self._keys)

    def key(self, index: int) -> str:
        self._check_index(index)
        return self._keys[index]

    def index(self, key: str) -> int:
        position = self._positions.get(key) if isinstance(key, str) else None
        if position is None:
            raise PartitionError(
                f"partition key {key!r} is not a key of the dynamic partitions {self.name!r} "
                f"({len(self._keys)} keys); add it with `partita partitions add {self.name} "
                f"{key}`"
            )
        return position

    def position_of(self, key: str) -> int | None:
        """The index of `key`, or None when it is not one of the keys."""
        return self._positions.get(key)

    def describe(self) -> str:
        shown = ", ".join(self._keys[:_SHOWN_KEYS])
        hidden = len(self._keys) - _SHOWN_KEYS
        listing = f": {shown}" + (f" and {hidden} more" if hidden > 0 else "") if shown else ""
        return f"dynamic {self.name!r}, {len(self._keys)} keys{listing}"

    def layout(self) -> str:
        # Not the keys: appending keeps every index, so state kept by index stays valid.
        return f"DynamicPartitions({self.name!r}, generation={self._generation})"

    def __repr__(self) -> str:
        return f"DynamicPartitions({self.name!r})"

    def _identity(self) -> tuple[Any, ...]:
        return (self.name,)

    def _index_bound(self) -> int | None:
        return len(self._keys)

    def _keys_between(self, start: int, stop: int) -> list[str]:
        return list(self._keys[start:stop])


def dynamic_sets(partitions: Partitions | None) -> list[DynamicPartitions]:
    """The dynamic partitions in a partitioning (itself, or dimensions of multi ones)."""
    if isinstance(partitions, DynamicPartitions):
        return [partitions]
    dimensions = getattr(partitions, "dimensions", None)
    if isinstance(dimensions, dict):
        return [p for p in dimensions.values() if isinstance(p, DynamicPartitions)]
    return []


def bind_dynamic_keys(
    partitionings: Iterable[Partitions | None], load: Callable[[str], Any]
) -> list[str]:
    """Bind each dynamic set in `partitionings` to its keys: `load(name)` returns an object
    with `keys` and `generation` (the catalog's `dynamic_keys`). Returns the set names."""
    loaded: dict[str, Any] = {}
    for partitions in partitionings:
        for dynamic in dynamic_sets(partitions):
            if dynamic.name not in loaded:
                loaded[dynamic.name] = load(dynamic.name)
            found = loaded[dynamic.name]
            dynamic.bind(found.keys, found.generation)
    return sorted(loaded)


def check_dynamic_keys(name: str, keys: Sequence[str]) -> None:
    """PartitionError for keys that can't be dynamic partition keys."""
    for key in keys:
        if not isinstance(key, str) or not key or "|" in key or not key.isprintable():
            raise PartitionError(
                f"{key!r} can't be a key of the dynamic partitions {name!r}: keys are "
                "non-empty printable text without '|' (which joins the values of "
                "multi-dimensional keys)"
            )
