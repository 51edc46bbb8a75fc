"""Multi-dimensional partitions: the product of named dimensions, at most one of them time.

A key joins the dimension values with `|` in declaration order (`2024-01-01|eu|p1`).
Indices put the time dimension outermost: index = time_index * combinations + combination,
where a combination numbers the other dimensions' values row-major in declaration order.
So new time partitions append indices (state stays valid as time passes), one time
partition's combinations are a contiguous run of indices, and so are all of them across
a range of time partitions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import product
from typing import Any

from partita.errors import DefinitionError, PartitionError

from .base import Partitions
from .static import StaticPartitions
from .time import TimePartitions

SEPARATOR = "|"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class MultiPartitions(Partitions):
    """The partitions of every combination of named dimensions:
    `MultiPartitions(date=DailyPartitions("2024-01-01"), region=StaticPartitions(["eu", "us"]))`.

    Any number of dimensions, at most one of them time partitions. Keys are the values
    joined by `|` in declaration order (`2024-01-01|eu`); each dimension is one hive folder
    level (`date=2024-01-01/region=eu/`)."""

    kind = "multi"

    def __init__(self, **dimensions: Partitions) -> None:
        if len(dimensions) < 2:
            raise DefinitionError(
                f"invalid multi partitions: {len(dimensions)} dimension(s) given; name at least "
                "two, such as MultiPartitions(date=DailyPartitions('2024-01-01'), "
                "region=StaticPartitions(['eu', 'us'])), or use the one partitioning directly"
            )
        for name, partitions in dimensions.items():
            _check_dimension(name, partitions)
        times = [name for name, value in dimensions.items() if isinstance(value, TimePartitions)]
        if len(times) > 1:
            raise DefinitionError(
                f"invalid multi partitions: dimensions {', '.join(map(repr, times))} are all "
                "time partitions; at most one dimension may be time"
            )
        self.dimensions: dict[str, Partitions] = dict(dimensions)
        self.time_name: str | None = times[0] if times else None
        self.hive_key = SEPARATOR.join(dimensions)  # one hive folder level per dimension
        self._inner = [name for name in dimensions if name != self.time_name]
        self._time_position = list(dimensions).index(self.time_name) if times else None
        self._signature: tuple[Any, ...] | None = None
        self._refresh()

    def _refresh(self) -> None:
        """(Re)number the combinations when a dynamic dimension's keys changed."""
        signature = tuple(getattr(self.dimensions[name], "signature", None) for name in self._inner)
        if signature == self._signature:
            return
        self._combinations = [
            tuple(values)
            for values in product(*(self.dimensions[name].keys(0) for name in self._inner))
        ]
        self._combination_index = {values: i for i, values in enumerate(self._combinations)}
        self._signature = signature

    @property
    def time(self) -> TimePartitions | None:
        """The time dimension, None when there is none."""
        time = self.dimensions.get(self.time_name) if self.time_name else None
        return time if isinstance(time, TimePartitions) else None

    @property
    def combinations(self) -> int:
        """How many combinations of the non-time dimensions there are (per time partition)."""
        self._refresh()
        return len(self._combinations)

    def count(self, now: datetime | None = None) -> int:
        time = self.time
        if time is None:
            return self.combinations
        return time.count(now) * self.combinations

    def key(self, index: int) -> str:
        self._check_index(index)
        return self._key_of(index)

    def index(self, key: str) -> int:
        values = key.split(SEPARATOR) if isinstance(key, str) else None
        if values is None or len(values) != len(self.dimensions):
            raise PartitionError(
                f"partition key {key!r} is not a key of {self.describe()}: expected "
                f"{len(self.dimensions)} values joined by '|' ({self._example()})"
            )
        self._refresh()
        time_index = 0
        inner = []
        for (name, partitions), value in zip(self.dimensions.items(), values, strict=True):
            try:
                position = partitions.index(value)
            except PartitionError as error:
                raise PartitionError(f"dimension {name!r} of key {key!r}: {error}") from None
            if name == self.time_name:
                time_index = position
            else:
                inner.append(partitions.key(position))
        return time_index * self.combinations + self._combination_index[tuple(inner)]

    def values(self, key: str) -> dict[str, str]:
        """The value of each dimension in `key`, by dimension name (the key is checked)."""
        self.index(key)
        return dict(zip(self.dimensions, key.split(SEPARATOR), strict=True))

    def split(self, index: int) -> tuple[int, int]:
        """(time index, combination) of partition `index`; time index 0 without time."""
        return divmod(index, self.combinations)

    def combination_values(self, combination: int) -> dict[str, str]:
        """The values of the non-time dimensions of combination number `combination`."""
        self._refresh()
        return dict(zip(self._inner, self._combinations[combination], strict=True))

    def combination_label(self, combination: int) -> str:
        """`region=eu, product=p1`: the combination, for people."""
        values = self.combination_values(combination)
        return ", ".join(f"{name}={value}" for name, value in values.items())

    def describe(self) -> str:
        shown = " x ".join(
            f"{name} ({partitions.describe()})" for name, partitions in self.dimensions.items()
        )
        return f"multi: {shown}"

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.dimensions.items())
        return f"MultiPartitions({shown})"

    def _identity(self) -> tuple[Any, ...]:
        return tuple((name, value) for name, value in self.dimensions.items())

    def layout(self) -> str:
        # Indices number combinations per time partition: a dynamic dimension's key count
        # is part of the layout (adding keys renumbers; state by index is rebuilt once).
        dimensions = [
            (name, value.layout(), getattr(value, "signature", None))
            for name, value in self.dimensions.items()
        ]
        return f"MultiPartitions{tuple(dimensions)!r}"

    def _index_bound(self) -> int | None:
        time = self.time
        if time is None:
            return self.combinations
        bound = time.index_bound()
        return None if bound is None else bound * self.combinations

    def _keys_between(self, start: int, stop: int) -> list[str]:
        self._refresh()
        time = self.time
        if time is None:
            return [SEPARATOR.join(values) for values in self._combinations[start:stop]]
        first, last = start // self.combinations, (stop - 1) // self.combinations
        times = time.keys(first, last + 1)
        templates = [self._template(values) for values in self._combinations]
        keys = [before + time_key + after for time_key in times for before, after in templates]
        offset = first * self.combinations
        return keys[start - offset : stop - offset]

    def _key_of(self, index: int) -> str:
        self._refresh()
        time_index, combination = self.split(index)
        if self.time is None:
            return SEPARATOR.join(self._combinations[combination])
        before, after = self._template(self._combinations[combination])
        return before + self.time.key(time_index) + after

    def _template(self, values: tuple[str, ...]) -> tuple[str, str]:
        position = self._time_position or 0
        before = "".join(value + SEPARATOR for value in values[:position])
        after = "".join(SEPARATOR + value for value in values[position:])
        return before, after

    def _example(self) -> str:
        return self._key_of(0) if self.count(_far_future(self)) else "no partition yet"


@dataclass(frozen=True)
class Dimensions:
    """Any partitioning seen as dimensions: its time dimension (if any) and the others,
    whose combinations number `combinations` per time partition (time outermost)."""

    time_name: str | None
    time: TimePartitions | None
    inner: dict[str, Partitions]
    combinations: int

    @classmethod
    def of(cls, partitions: Partitions | None) -> Dimensions:
        if isinstance(partitions, MultiPartitions):
            inner = {n: p for n, p in partitions.dimensions.items() if n != partitions.time_name}
            return cls(partitions.time_name, partitions.time, inner, partitions.combinations)
        if isinstance(partitions, TimePartitions):
            return cls(partitions.hive_key, partitions, {}, 1)
        if partitions is None:
            return cls(None, None, {}, 1)
        return cls(None, None, {partitions.hive_key: partitions}, partitions.count())

    def combination_values(self, partitions: Partitions | None) -> list[dict[str, str]]:
        """The values of every combination, in combination order."""
        if isinstance(partitions, MultiPartitions):
            return [partitions.combination_values(c) for c in range(self.combinations)]
        if not self.inner:
            return [{}]
        ((name, inner),) = self.inner.items()
        return [{name: key} for key in inner.keys(0)]


def _check_dimension(name: str, partitions: object) -> None:
    if not _NAME.fullmatch(name):
        raise DefinitionError(
            f"invalid multi partitions: dimension name {name!r} is not a plain name; use "
            "letters, digits and underscores (it names a hive folder level)"
        )
    if isinstance(partitions, MultiPartitions) or not isinstance(partitions, Partitions):
        raise DefinitionError(
            f"invalid multi partitions: dimension {name!r} is {partitions!r}; each dimension "
            "is one partitioning, such as DailyPartitions(...) or StaticPartitions([...])"
        )
    if isinstance(partitions, StaticPartitions):
        bad = [key for key in partitions.partition_keys if SEPARATOR in key]
        if bad:
            raise DefinitionError(
                f"invalid multi partitions: dimension {name!r} has the key {bad[0]!r}, which "
                "contains '|', the separator of multi-dimensional keys; rename the key"
            )


def _far_future(partitions: MultiPartitions) -> datetime | None:
    time = partitions.time
    if time is None or time.index_bound() is not None:
        return None
    return time.partition_end(0)


def time_interval(
    partitions: Partitions | None, index: int
) -> tuple[datetime, datetime, timedelta] | None:
    """(start, end, elapsed duration) of partition `index`'s time interval: of its time
    dimension for multi partitions; None when it has no time."""
    if isinstance(partitions, MultiPartitions):
        if partitions.time is None:
            return None
        partitions, index = partitions.time, partitions.split(index)[0]
    if not isinstance(partitions, TimePartitions):
        return None
    return (
        partitions.partition_start(index),
        partitions.partition_end(index),
        partitions.partition_duration(index),
    )


def dimension_values(partitions: Partitions | None, key: str | None) -> Mapping[str, str] | None:
    """The partition key by dimension name: every dimension of multi partitions, the hive
    key of a single partitioning (`{"date": "2024-01-01"}`); None when unpartitioned."""
    if partitions is None or key is None:
        return None
    if isinstance(partitions, MultiPartitions):
        return partitions.values(key)
    return {partitions.hive_key: key}
