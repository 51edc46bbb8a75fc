"""Partition schemes: how an asset is split into keys, each covering a half-open interval.

Time partitions cover consecutive half-open intervals [start, end) of logical time in their
timezone; static partitions are a fixed list of names. Index arithmetic is O(1): nothing
iterates over partitions and nothing reads the current time.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from partita.errors import DefinitionError, PartitionError

_MONTH_KEY = re.compile(r"(\d{4})-(\d{2})")
_DAY_KEY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_HOUR_KEY = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2})")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SHOWN_STATIC_KEYS = 20
_HOUR_SUFFIXES = tuple(f"T{hour:02d}" for hour in range(24))


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


class TimePartitions(Partitions):
    """Consecutive half-open intervals [start, end) of logical time in `timezone`.

    `start` must lie on a partition boundary. `end` is exclusive and rounded down to a
    partition boundary (only whole partitions exist); None means open-ended. Datetimes given
    naive are read in `timezone`; aware ones are converted to it.

    Note that Python compares and subtracts two datetimes that share a tzinfo by their wall
    clock: convert to UTC to measure the real length of an interval across a DST change.
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
        self._zone = _load_zone(timezone)
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

    def index_containing(self, moment: datetime) -> int:
        """The index whose interval [start, end) contains `moment`; no bounds check."""
        instant = self._instant(moment)
        index = self._wall_index(instant.astimezone(self._zone).replace(tzinfo=None))
        # The wall-clock floor is exact unless a DST jump straddles a partition boundary;
        # nudge it so the answer always agrees with partition_start and partition_end.
        for _ in range(4):
            if self._instant_start(index) > instant:
                index -= 1
            elif self._instant_start(index + 1) <= instant:
                index += 1
            else:
                break
        return index

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
        steps = np.asarray(indices, dtype=np.int64) * self._numpy_step
        return (self._numpy_start() + steps).astype("datetime64[us]")

    def wall_indices(self, wall_clocks: np.ndarray) -> np.ndarray:
        """The index of the partition whose wall-clock interval contains each naive
        datetime64 in `wall_clocks`, vectorized; no bounds check."""
        units = np.asarray(wall_clocks).astype(f"datetime64[{self._numpy_unit}]")
        return (units - self._numpy_start()).astype(np.int64) // self._numpy_step

    def _numpy_start(self) -> np.datetime64:
        return np.datetime64(self._wall_start(0), self._numpy_unit)

    # Wall-clock and UTC views of boundaries.

    def _wall_start(self, index: int) -> datetime:
        return self._naive(self._start_ordinal + index)

    def _wall_index(self, wall_clock: datetime) -> int:
        return self._ordinal(wall_clock) - self._start_ordinal

    def _instant_start(self, index: int) -> datetime:
        return self.partition_start(index).astimezone(UTC)

    def _localize(self, wall_clock: datetime) -> datetime:
        return wall_clock.replace(tzinfo=self._zone)

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
            moment = _parse_bound(value.strip())
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


class HourlyPartitions(TimePartitions):
    """One partition per hour, keyed `YYYY-MM-DDTHH`, each the half-open hour [HH:00, HH+1:00).

    Hours follow the local wall clock: in a timezone with DST the skipped hour is an empty
    interval and the repeated hour is two hours long. Prefer UTC for hourly partitions.
    """

    kind = "hourly"
    hive_key = "hour"
    key_format = "YYYY-MM-DDTHH"
    _numpy_unit = "h"
    _alignment = "on the hour"
    _containing = "the start of that hour"

    def _ordinal(self, wall_clock: datetime) -> int:
        return wall_clock.toordinal() * 24 + wall_clock.hour

    def _naive(self, ordinal: int) -> datetime:
        day, hour = divmod(ordinal, 24)
        return _from_ordinal(day, self).replace(hour=hour)

    def _format(self, wall_clock: datetime) -> str:
        return f"{wall_clock.date().isoformat()}T{wall_clock.hour:02d}"

    def _parse_key(self, key: str) -> datetime | None:
        match = _HOUR_KEY.fullmatch(key)
        return None if match is None else _checked_datetime(*match.groups())

    def _keys_between(self, start: int, stop: int) -> list[str]:
        # Formats each day once: a benchmark lists millions of hourly keys.
        keys: list[str] = []
        ordinal = self._start_ordinal + start
        stop_ordinal = self._start_ordinal + stop
        while ordinal < stop_ordinal:
            day, hour = divmod(ordinal, 24)
            last_hour = min(24, hour + stop_ordinal - ordinal)
            prefix = _from_ordinal(day, self).date().isoformat()
            keys.extend([prefix + suffix for suffix in _HOUR_SUFFIXES[hour:last_hour]])
            ordinal += last_hour - hour
        return keys


class DailyPartitions(TimePartitions):
    """One partition per day, keyed `YYYY-MM-DD`, each the half-open day [00:00, next 00:00)."""

    kind = "daily"
    hive_key = "date"
    key_format = "YYYY-MM-DD"
    _numpy_unit = "D"
    _alignment = "at midnight"
    _containing = "the start of that day"

    def _ordinal(self, wall_clock: datetime) -> int:
        return wall_clock.toordinal()

    def _naive(self, ordinal: int) -> datetime:
        return _from_ordinal(ordinal, self)

    def _format(self, wall_clock: datetime) -> str:
        return wall_clock.date().isoformat()

    def _parse_key(self, key: str) -> datetime | None:
        match = _DAY_KEY.fullmatch(key)
        return None if match is None else _checked_datetime(*match.groups())


class WeeklyPartitions(TimePartitions):
    """One partition per week, keyed by its Monday `YYYY-MM-DD`: half-open [Monday, next Monday)."""

    kind = "weekly"
    hive_key = "week"
    key_format = "YYYY-MM-DD (a Monday)"
    _numpy_unit = "D"
    _numpy_step = 7
    _alignment = "a Monday at midnight"
    _containing = "the Monday of that week"

    # Ordinal day 1 (0001-01-01) is a Monday, so weeks are (day - 1) // 7.
    def _ordinal(self, wall_clock: datetime) -> int:
        return (wall_clock.toordinal() - 1) // 7

    def _naive(self, ordinal: int) -> datetime:
        return _from_ordinal(ordinal * 7 + 1, self)

    def _format(self, wall_clock: datetime) -> str:
        return wall_clock.date().isoformat()

    def _parse_key(self, key: str) -> datetime | None:
        match = _DAY_KEY.fullmatch(key)
        return None if match is None else _checked_datetime(*match.groups())

    def _misalignment(self, wall_clock: datetime) -> str:
        monday = self._format(self._naive(self._ordinal(wall_clock)))
        weekday = _WEEKDAYS[wall_clock.weekday()]
        return f"it is a {weekday}, and weekly keys are Mondays (its week is {monday!r})"


class MonthlyPartitions(TimePartitions):
    """One partition per month, keyed `YYYY-MM`, each the half-open [1st, next month's 1st)."""

    kind = "monthly"
    hive_key = "month"
    key_format = "YYYY-MM"
    _numpy_unit = "M"
    _alignment = "the 1st of a month at midnight"
    _containing = "the start of that month"

    def _ordinal(self, wall_clock: datetime) -> int:
        return wall_clock.year * 12 + wall_clock.month - 1

    def _naive(self, ordinal: int) -> datetime:
        year, month = divmod(ordinal, 12)
        if not 1 <= year <= 9999:
            raise PartitionError(
                f"partition ordinal {ordinal} is outside the years 1 to 9999 that "
                f"{self.kind} partitions can represent"
            )
        return datetime(year, month + 1, 1)

    def _format(self, wall_clock: datetime) -> str:
        return f"{wall_clock.year:04d}-{wall_clock.month:02d}"

    def _parse_key(self, key: str) -> datetime | None:
        match = _MONTH_KEY.fullmatch(key)
        return None if match is None else _checked_datetime(*match.groups(), "01")


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


def clip_range(start: int, stop: int, upper: int | None) -> range:
    """The index range [start, stop) clipped to [0, upper) (upper None: no upper limit)."""
    start = max(start, 0)
    if upper is not None:
        start, stop = min(start, upper), min(stop, upper)
    return range(start, max(start, stop))


def _load_zone(timezone: object) -> ZoneInfo:
    try:
        if not isinstance(timezone, str):
            raise TypeError(timezone)
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise DefinitionError(
            f"invalid partition bounds: unknown timezone {timezone!r}; use an IANA name such "
            "as 'UTC' or 'America/New_York'"
        ) from None


def _parse_bound(text: str) -> datetime | None:
    match = _MONTH_KEY.fullmatch(text)
    if match is not None:
        return _checked_datetime(*match.groups(), "01")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _checked_datetime(year: str, month: str, day: str, hour: str = "0") -> datetime | None:
    try:
        return datetime(int(year), int(month), int(day), int(hour))
    except ValueError:
        return None


def _from_ordinal(day: int, partitions: TimePartitions) -> datetime:
    try:
        return datetime.fromordinal(day)
    except (ValueError, OverflowError):
        raise PartitionError(
            f"day ordinal {day} is outside the years 1 to 9999 that {partitions.kind} "
            "partitions can represent"
        ) from None
