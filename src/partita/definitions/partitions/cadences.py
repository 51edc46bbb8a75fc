"""The time cadences: hourly, daily, weekly (Monday to Monday) and monthly partitions."""

from __future__ import annotations

from datetime import datetime

from partita.errors import PartitionError

from .keys import DAY_KEY, HOUR_KEY, MONTH_KEY, checked_datetime
from .time import TimePartitions, from_ordinal

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_HOUR_SUFFIXES = tuple(f"T{hour:02d}" for hour in range(24))


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
        return from_ordinal(day, self).replace(hour=hour)

    def _format(self, wall_clock: datetime) -> str:
        return f"{wall_clock.date().isoformat()}T{wall_clock.hour:02d}"

    def _parse_key(self, key: str) -> datetime | None:
        match = HOUR_KEY.fullmatch(key)
        return None if match is None else checked_datetime(*match.groups())

    def _keys_between(self, start: int, stop: int) -> list[str]:
        # Formats each day once: a benchmark lists millions of hourly keys.
        keys: list[str] = []
        ordinal = self._start_ordinal + start
        stop_ordinal = self._start_ordinal + stop
        while ordinal < stop_ordinal:
            day, hour = divmod(ordinal, 24)
            last_hour = min(24, hour + stop_ordinal - ordinal)
            prefix = from_ordinal(day, self).date().isoformat()
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
        return from_ordinal(ordinal, self)

    def _format(self, wall_clock: datetime) -> str:
        return wall_clock.date().isoformat()

    def _parse_key(self, key: str) -> datetime | None:
        match = DAY_KEY.fullmatch(key)
        return None if match is None else checked_datetime(*match.groups())


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
        return from_ordinal(ordinal * 7 + 1, self)

    def _format(self, wall_clock: datetime) -> str:
        return wall_clock.date().isoformat()

    def _parse_key(self, key: str) -> datetime | None:
        match = DAY_KEY.fullmatch(key)
        return None if match is None else checked_datetime(*match.groups())

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
        match = MONTH_KEY.fullmatch(key)
        return None if match is None else checked_datetime(*match.groups(), "01")
