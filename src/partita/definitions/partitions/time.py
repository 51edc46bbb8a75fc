"""Time partitions: consecutive half-open intervals [start, end) of logical time."""

from __future__ import annotations

from abc import abstractmethod
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from partita.errors import DefinitionError, PartitionError

from .base import Partitions, clip_range
from .clock import localize
from .keys import load_zone, parse_bound, wall_clock_interval

if TYPE_CHECKING:
    import numpy as np


class TimePartitions(Partitions):
    """Consecutive half-open intervals [start, end) of logical time in `timezone`.

    `start` must lie on a partition boundary. `end` is exclusive and rounded down to a
    partition boundary (only whole partitions exist); None means open-ended. Datetimes given
    naive are read in `timezone`; aware ones are converted to it.

    Across clock changes: a wall-clock slot the clock skipped is an empty interval at the
    instant of the change (its key still exists), and a repeated wall-clock time belongs to
    its first occurrence, so the slot before a fall-back boundary is longer.

    Note that Python compares and subtracts two datetimes that share a tzinfo by their wall
    clock: use `partition_duration` (or convert to UTC) for the elapsed length.
    """

    key_format: ClassVar[str]
    _numpy_unit: ClassVar[str]  # the numpy datetime64 unit partitions step by
    _numpy_step: ClassVar[int] = 1  # how many of those units one partition spans
    _alignment: ClassVar[str]  # what a boundary looks like, for error messages
    _containing: ClassVar[str]  # names the boundary below a moment, for error messages

    def __init__(
        self,
        start: str | date | datetime,
        end: str | date | datetime | None = None,
        timezone: str = "UTC",
    ) -> None:
        self._timezone = timezone
        self._zone = load_zone(timezone)
        start_wall = self._wall_clock(start, "start")
        self._start_ordinal = self._ordinal(start_wall)
        if self._naive(self._start_ordinal) != start_wall:
            suggestion = self._format(self._naive(self._start_ordinal))
            raise DefinitionError(
                f"invalid partition bounds: start {start!r} is not {self._alignment}, so it does "
                f"not begin a {self.kind} partition; use start={suggestion!r} "
                f"({self._containing})"
            )
        self._end_ordinal: int | None = None
        if end is not None:
            end_wall = self._wall_clock(end, "end")
            if end_wall <= start_wall:
                raise DefinitionError(
                    f"invalid partition bounds: end {end!r} is not after start {start!r}; "
                    "end is exclusive, so set it later than start (or leave it out for "
                    "open-ended partitions)"
                )
            self._end_ordinal = self._ordinal(end_wall)
            if self._end_ordinal <= self._start_ordinal:
                first_end = self._format(self._naive(self._start_ordinal + 1))
                raise DefinitionError(
                    f"invalid partition bounds: end {end!r} leaves no whole {self.kind} "
                    f"partition after start {start!r}; partitions are [start, end), so set "
                    f"end to {first_end!r} or later"
                )

    # Cadence-specific pieces: an ordinal numbers boundaries on the naive wall clock.

    @abstractmethod
    def _ordinal(self, wall_clock: datetime) -> int:
        """The ordinal of the partition whose wall-clock interval contains `wall_clock`."""

    @abstractmethod
    def _naive(self, ordinal: int) -> datetime:
        """The naive wall-clock start of the partition numbered `ordinal`."""

    @abstractmethod
    def _format(self, wall_clock: datetime) -> str:
        """The key of the partition starting at `wall_clock`."""

    @abstractmethod
    def _parse_key(self, key: str) -> datetime | None:
        """The wall-clock datetime a key spells, None when it is malformed."""

    # Declaration.

    @property
    def start(self) -> datetime:
        """The start of the first partition, aware, in `timezone`."""
        return self._localize(self._naive(self._start_ordinal))

    @property
    def end(self) -> datetime | None:
        """The exclusive end of the last partition, aware, in `timezone`; None if open-ended."""
        if self._end_ordinal is None:
            return None
        return self._localize(self._naive(self._end_ordinal))

    @property
    def timezone(self) -> str:
        """The IANA timezone the intervals are laid out in."""
        return self._timezone

    def _index_bound(self) -> int | None:
        if self._end_ordinal is None:
            return None
        return self._end_ordinal - self._start_ordinal

    def _identity(self) -> tuple[Any, ...]:
        return (self._start_ordinal, self._end_ordinal, self._timezone)

    def describe(self) -> str:
        first = self._format(self._naive(self._start_ordinal))
        if self._end_ordinal is None:
            return f"{self.kind} from {first} on ({self._timezone})"
        last = self._format(self._naive(self._end_ordinal - 1))
        return f"{self.kind} from {first} to {last} ({self._timezone})"

    def __repr__(self) -> str:
        start = self._format(self._naive(self._start_ordinal))
        end = None if self._end_ordinal is None else self._format(self._naive(self._end_ordinal))
        return f"{type(self).__name__}(start={start!r}, end={end!r}, timezone={self._timezone!r})"

    # Keys and indices.

    def count(self, now: datetime | None = None) -> int:
        """Partitions that have ended by `now` (partition_end <= now), capped by `end`.

        With `end` set and no `now`, every declared partition counts; open-ended partitions
        need `now`.
        """
        if now is None:
            bound = self._index_bound()
            if bound is None:
                raise PartitionError(
                    f"cannot count the partitions ({self.describe()}) without `now`: they have "
                    "no end, so pass now=... to say up to when partitions exist"
                )
            return bound
        return self.last_complete_index(now) + 1

    def key(self, index: int) -> str:
        self._check_index(index)
        return self._format(self._wall_start(index))

    def index(self, key: str) -> int:
        wall_clock = self._parse_key(key) if isinstance(key, str) else None
        if wall_clock is None:
            raise PartitionError(
                f"partition key {key!r} is not a valid {self.kind} key: {self._expected()}"
            )
        ordinal = self._ordinal(wall_clock)
        if self._naive(ordinal) != wall_clock:
            raise PartitionError(
                f"partition key {key!r} is not a valid {self.kind} key: "
                f"{self._misalignment(wall_clock)}; {self._expected()}"
            )
        index = ordinal - self._start_ordinal
        if index < 0:
            raise PartitionError(
                f"partition key {key!r} is before the first {self.kind} partition: "
                f"{self._expected()}"
            )
        bound = self._index_bound()
        if bound is not None and index >= bound:
            raise PartitionError(
                f"partition key {key!r} is at or after the end of the {self.kind} partitions: "
                f"{self._expected()}"
            )
        return index

    def _expected(self) -> str:
        first = self._format(self._naive(self._start_ordinal))
        if self._end_ordinal is None:
            return f"expected {self.key_format} from {first} on"
        last = self._format(self._naive(self._end_ordinal - 1))
        return f"expected {self.key_format} between {first} and {last}"

    def _misalignment(self, wall_clock: datetime) -> str:
        return f"it does not start a {self.kind} partition"

    def _keys_between(self, start: int, stop: int) -> list[str]:
        return [self._format(self._wall_start(index)) for index in range(start, stop)]

    # Intervals. Indices here are not bounds-checked: they may lie before start or past end.

    def partition_start(self, index: int) -> datetime:
        """The start of partition `index`'s half-open interval, aware, in `timezone`."""
        return self._localize(self._wall_start(index))

    def partition_end(self, index: int) -> datetime:
        """The exclusive end of partition `index`'s interval (the next partition's start)."""
        return self._localize(self._wall_start(index + 1))

    def partition_duration(self, index: int) -> timedelta:
        """The elapsed length of partition `index` (23 hours for a spring-forward day; zero
        for a slot the clock skipped). Unlike `partition_end - partition_start`, which Python
        computes on the wall clock."""
        return self._instant_start(index + 1) - self._instant_start(index)

    def index_containing(self, moment: datetime) -> int:
        """The index whose interval [start, end) contains `moment`; no bounds check.

        Skipped slots are empty, so they contain nothing."""
        instant = self._instant(moment)
        index = self._wall_index(instant.astimezone(self._zone).replace(tzinfo=None))
        # The wall-clock floor is exact except inside a repeated (fall-back) stretch, where
        # the instant may belong to a later slot: boundaries are monotone, so walk to it.
        while self._instant_start(index) > instant:
            index -= 1
        while self._instant_start(index + 1) <= instant:
            index += 1
        return index

    def key_interval(self, key: str) -> tuple[datetime, datetime] | None:
        """The half-open interval [start, end) of an hour, day or month key of any grain,
        in these partitions' timezone (a day of monthly partitions); None if `key` is none
        of those."""
        interval = wall_clock_interval(key) if isinstance(key, str) else None
        if interval is None:
            return None
        return self._localize(interval[0]), self._localize(interval[1])

    def indices_overlapping(self, start: datetime, end: datetime) -> range:
        """Partitions whose interval overlaps [start, end), clipped to [0, index_bound())."""
        start_instant, end_instant = self._instant(start), self._instant(end)
        if end_instant <= start_instant:
            return range(0, 0)
        first = self.index_containing(start_instant)
        last = self.index_containing(end_instant - timedelta(microseconds=1))
        return clip_range(first, last + 1, self._index_bound())

    def last_complete_index(self, now: datetime) -> int:
        """The latest in-bounds index with partition_end <= now, or -1 if none has ended."""
        latest = self.index_containing(now) - 1
        bound = self._index_bound()
        if bound is not None:
            latest = min(latest, bound - 1)
        return max(latest, -1)

    def wall_starts(self, indices: np.ndarray) -> np.ndarray:
        """The naive wall-clock starts of partitions `indices` (datetime64[us]), vectorized;
        no bounds check. Partition i covers [wall_starts(i), wall_starts(i + 1))."""
        import numpy as np

        steps = np.asarray(indices, dtype=np.int64) * self._numpy_step
        return (self._numpy_start() + steps).astype("datetime64[us]")

    def wall_indices(self, wall_clocks: np.ndarray) -> np.ndarray:
        """The index of the partition whose wall-clock interval contains each naive
        datetime64 in `wall_clocks`, vectorized; no bounds check."""
        import numpy as np

        units = np.asarray(wall_clocks).astype(f"datetime64[{self._numpy_unit}]")
        return (units - self._numpy_start()).astype(np.int64) // self._numpy_step

    def _numpy_start(self) -> np.datetime64:
        import numpy as np

        return np.datetime64(self._wall_start(0), self._numpy_unit)

    # Wall-clock and UTC views of boundaries.

    def _wall_start(self, index: int) -> datetime:
        return self._naive(self._start_ordinal + index)

    def _wall_index(self, wall_clock: datetime) -> int:
        return self._ordinal(wall_clock) - self._start_ordinal

    def _instant_start(self, index: int) -> datetime:
        return self.partition_start(index).astimezone(UTC)

    def _localize(self, wall_clock: datetime) -> datetime:
        return localize(wall_clock, self._zone)

    def _instant(self, moment: datetime) -> datetime:
        if not isinstance(moment, datetime):
            raise PartitionError(
                f"expected a datetime, got {moment!r}; pass a datetime (naive ones are read in "
                f"{self._timezone})"
            )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._zone)
        return moment.astimezone(UTC)

    def _wall_clock(self, value: object, name: str) -> datetime:
        """A bound as a naive wall-clock datetime in the partitions' timezone."""
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime(value.year, value.month, value.day)
        elif isinstance(value, str):
            moment = parse_bound(value.strip())
            if moment is None:
                raise DefinitionError(
                    f"invalid partition bounds: cannot read {name} {value!r} as a date or time; "
                    "write it like '2013-01-01', '2013-01-01T05', '2013-01-01 05:00' or '2013-01'"
                )
        else:
            raise DefinitionError(
                f"invalid partition bounds: {name} {value!r} is not a date; pass a string such "
                "as '2013-01-01', a date or a datetime"
            )
        if moment.tzinfo is not None:
            moment = moment.astimezone(self._zone)
        return moment.replace(tzinfo=None)


def from_ordinal(day: int, partitions: TimePartitions) -> datetime:
    try:
        return datetime.fromordinal(day)
    except (ValueError, OverflowError):
        raise PartitionError(
            f"day ordinal {day} is outside the years 1 to 9999 that {partitions.kind} "
            "partitions can represent"
        ) from None
