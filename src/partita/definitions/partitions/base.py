"""The interface every partition scheme implements: keys numbered from 0."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, ClassVar

from partita.errors import PartitionError


class Partitions(ABC):
    """How an asset is split into partitions, each named by a string key and numbered from 0."""

    kind: ClassVar[str]
    hive_key: ClassVar[str]

    @abstractmethod
    def count(self, now: datetime | None = None) -> int:
        """The number of partitions that exist at `now`."""

    @abstractmethod
    def key(self, index: int) -> str:
        """The key of partition `index`; PartitionError when the index is out of bounds."""

    @abstractmethod
    def index(self, key: str) -> int:
        """The index of partition `key`; PartitionError if it is malformed or out of bounds."""

    @abstractmethod
    def describe(self) -> str:
        """A one-line description, such as `daily from 2013-01-01 to 2013-12-31 (UTC)`."""

    @abstractmethod
    def _identity(self) -> tuple[Any, ...]:
        """The declaration, for equality and hashing."""

    @abstractmethod
    def _index_bound(self) -> int | None:
        """The number of declared partitions, None if open-ended."""

    @abstractmethod
    def _keys_between(self, start: int, stop: int) -> list[str]:
        """Keys for the index range [start, stop), already checked to be in bounds."""

    def index_bound(self) -> int | None:
        """The number of declared partitions, None if open-ended."""
        return self._index_bound()

    def layout(self) -> str:
        """The declaration as text: state kept by partition index is valid while it stays
        the same."""
        return f"{type(self).__name__}{self._identity()!r}"

    def keys(
        self, start: int = 0, stop: int | None = None, now: datetime | None = None
    ) -> list[str]:
        """Keys for the half-open index range [start, stop); stop None means `count(now)`."""
        if stop is None:
            stop = self.count(now)
        if stop <= start:
            return []
        self._check_index(start)
        self._check_index(stop - 1)
        return self._keys_between(start, stop)

    def _check_index(self, index: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int):
            raise PartitionError(
                f"partition index {index!r} is not an integer: {self.kind} partitions are "
                "numbered 0, 1, 2, ..."
            )
        bound = self._index_bound()
        if index < 0 or (bound is not None and index >= bound):
            if bound is None:
                allowed = f"indices start at 0 ({self.key(0)})"
            else:
                allowed = f"indices run from 0 to {bound - 1}"
            raise PartitionError(
                f"partition index {index} is out of range: {self.describe()}; {allowed}"
            )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Partitions):
            return NotImplemented
        return type(self) is type(other) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash((type(self), self._identity()))


def clip_range(start: int, stop: int, upper: int | None) -> range:
    """The index range [start, stop) clipped to [0, upper) (upper None: no upper limit)."""
    start = max(start, 0)
    if upper is not None:
        start, stop = min(start, upper), min(stop, upper)
    return range(start, max(start, stop))
