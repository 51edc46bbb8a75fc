"""Static partitions: a fixed list of named keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from partita.errors import DefinitionError, PartitionError

from .base import Partitions

_SHOWN_STATIC_KEYS = 20


class StaticPartitions(Partitions):
    """A fixed list of named partitions, kept in the given order."""

    kind = "static"
    hive_key = "partition"

    def __init__(self, keys: Iterable[str]) -> None:
        if isinstance(keys, str):
            raise DefinitionError(
                f"invalid static partitions: got the single string {keys!r}; pass a list of "
                f"keys, such as StaticPartitions([{keys!r}])"
            )
        keys = tuple(keys)
        if not keys:
            raise DefinitionError(
                "invalid static partitions: the list of keys is empty; pass at least one key, "
                "such as StaticPartitions(['eu', 'us'])"
            )
        positions: dict[str, int] = {}
        for position, key in enumerate(keys):
            if not isinstance(key, str):
                raise DefinitionError(
                    f"invalid static partitions: key {key!r} at position {position} is a "
                    f"{type(key).__name__}, not a string; write it as {str(key)!r}"
                )
            if not key:
                raise DefinitionError(
                    f"invalid static partitions: the key at position {position} is empty; "
                    "every key needs at least one character"
                )
            if key in positions:
                raise DefinitionError(
                    f"invalid static partitions: key {key!r} appears more than once (positions "
                    f"{positions[key]} and {position}); each key must be unique"
                )
            positions[key] = position
        self.partition_keys: tuple[str, ...] = keys
        self._positions = positions

    def count(self, now: datetime | None = None) -> int:
        """The number of keys; static partitions always exist, so `now` is ignored."""
        return len(self.partition_keys)

    def key(self, index: int) -> str:
        self._check_index(index)
        return self.partition_keys[index]

    def index(self, key: str) -> int:
        position = self._positions.get(key) if isinstance(key, str) else None
        if position is None:
            raise PartitionError(
                f"partition key {key!r} is not one of the static partitions: expected one of "
                f"{self._listing(quoted=True)}"
            )
        return position

    def position_of(self, key: str) -> int | None:
        """The index of `key`, or None when it is not one of the keys."""
        return self._positions.get(key)

    def describe(self) -> str:
        return f"static: {self._listing(quoted=False)}"

    def __repr__(self) -> str:
        return f"StaticPartitions({list(self.partition_keys)!r})"

    def _listing(self, quoted: bool) -> str:
        shown = [repr(key) if quoted else key for key in self.partition_keys[:_SHOWN_STATIC_KEYS]]
        hidden = len(self.partition_keys) - len(shown)
        return ", ".join(shown) + (f" and {hidden} more" if hidden else "")

    def _identity(self) -> tuple[Any, ...]:
        return self.partition_keys

    def _index_bound(self) -> int | None:
        return len(self.partition_keys)

    def _keys_between(self, start: int, stop: int) -> list[str]:
        return list(self.partition_keys[start:stop])
