"""Minute partitions: every 5, 10, 15 or 30 minutes of the wall clock."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from partita.errors import DefinitionError

from .keys import MINUTE_KEY, checked_datetime
from .time import TimePartitions, from_ordinal

MINUTE_STEPS = (5, 10, 15, 30)


class MinutePartitions(TimePartitions):
    """One partition every `every` minutes (5, 10, 15 or 30), keyed `YYYY-MM-DDTHH:MM`, each
    the half-open [HH:MM, HH:MM + every) of the wall clock in `timezone`.

    Slots follow the local wall clock, as hourly partitions do: slots a clock change skipped
    are empty intervals at the instant of the change. Prefer UTC."""

    kind = "minute"
    hive_key = "minute"
    key_format = "YYYY-MM-DDTHH:MM"
    _numpy_unit = "m"
    _containing = "the start of that slot"

    def __init__(
        self,
        every: int,
        start: str | date | datetime,
        end: str | date | datetime | None = None,
        timezone: str = "UTC",
    ) -> None:
        if isinstance(every, bool) or every not in MINUTE_STEPS:
            raise DefinitionError(
                f"invalid minute partitions: every={every!r} is not one of "
                f"{', '.join(map(str, MINUTE_STEPS))} minutes (slots must tile an hour); "
                "use HourlyPartitions for 60, or CronPartitions for other schedules"
            )
        self.every = every
        self._numpy_step = every
        self._per_day = 1440 // every
        self._alignment = f"on a multiple of {every} minutes"
        self._suffixes = tuple(
            f"T{slot * every // 60:02d}:{slot * every % 60:02d}" for slot in range(self._per_day)
        )
        super().__init__(start, end, timezone)

    def _ordinal(self, wall_clock: datetime) -> int:
        minute = wall_clock.hour * 60 + wall_clock.minute
        return wall_clock.toordinal() * self._per_day + minute // self.every

    def _naive(self, ordinal: int) -> datetime:
        day, slot = divmod(ordinal, self._per_day)
        minute = slot * self.every
        return from_ordinal(day, self).replace(hour=minute // 60, minute=minute % 60)

    def _format(self, wall_clock: datetime) -> str:
        return f"{wall_clock.date().isoformat()}T{wall_clock.hour:02d}:{wall_clock.minute:02d}"

    def _parse_key(self, key: str) -> datetime | None:
        match = MINUTE_KEY.fullmatch(key)
        return None if match is None else checked_datetime(*match.groups())

    def _identity(self) -> tuple[Any, ...]:
        return (self.every, *super()._identity())

    def describe(self) -> str:
        return super().describe().replace(self.kind, f"every {self.every} minutes", 1)

    def __repr__(self) -> str:
        start = self._format(self._naive(self._start_ordinal))
        end = None if self._end_ordinal is None else self._format(self._naive(self._end_ordinal))
        return (
            f"MinutePartitions(every={self.every}, start={start!r}, end={end!r}, "
            f"timezone={self._timezone!r})"
        )

    def _keys_between(self, start: int, stop: int) -> list[str]:
        # Formats each day once: planning lists a million keys of ten years of 5 minutes.
        keys: list[str] = []
        ordinal = self._start_ordinal + start
        stop_ordinal = self._start_ordinal + stop
        while ordinal < stop_ordinal:
            day, slot = divmod(ordinal, self._per_day)
            last_slot = min(self._per_day, slot + stop_ordinal - ordinal)
            prefix = from_ordinal(day, self).date().isoformat()
            keys.extend([prefix + suffix for suffix in self._suffixes[slot:last_slot]])
            ordinal += last_slot - slot
        return keys
