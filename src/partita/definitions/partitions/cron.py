"""Cron partitions: one partition from each tick of a cron schedule to the next."""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cronsim import CronSim, CronSimError

from partita.errors import DefinitionError, PartitionError

from .keys import MINUTE_KEY, checked_datetime, load_zone
from .time import TimePartitions

if TYPE_CHECKING:
    import numpy as np

# Ticks are found by stepping the schedule; a bound keeps a mistaken `now` from looping.
MAX_TICKS = 20_000_000
_BEFORE = timedelta(seconds=1)


class CronPartitions(TimePartitions):
    """One partition per tick of the cron `schedule` (five fields, as in crontab), keyed
    `YYYY-MM-DDTHH:MM` by the tick that starts it: the half-open [tick, next tick) of the
    wall clock in `timezone`. `CronPartitions("0 6 * * MON-FRI", start="2024-01-01T06")`:
    business days from 6:00 to the next business day's 6:00.

    `start` must be a tick. A tick at a wall-clock time the clock skipped starts at the
    instant of the change. Ticks are found by stepping the schedule (with `cronsim`), so
    the first use of a far index takes time proportional to it."""

    kind = "cron"
    hive_key = "tick"
    key_format = "YYYY-MM-DDTHH:MM (a tick of the schedule)"
    _numpy_unit = "m"
    _containing = "the tick before it"

    def __init__(
        self,
        schedule: str,
        start: str | date | datetime,
        end: str | date | datetime | None = None,
        timezone: str = "UTC",
    ) -> None:
        self.schedule = schedule
        self._alignment = f"a tick of the schedule {schedule!r}"
        self._zone = load_zone(timezone)  # to read an aware start
        anchor = self._wall_clock(start, "start") - _BEFORE
        try:
            self._later: list[datetime] = [next(CronSim(schedule, anchor))]  # ordinal 0, 1, ...
        except (CronSimError, TypeError) as error:
            raise DefinitionError(
                f"invalid cron partitions: {schedule!r} is not a cron schedule ({error}); "
                "write five fields, minute hour day-of-month month day-of-week, such as "
                "'0 6 * * MON-FRI'"
            ) from None
        except StopIteration:
            raise DefinitionError(
                f"invalid cron partitions: the schedule {schedule!r} never ticks after {start!r}"
            ) from None
        self._earlier: list[datetime] = []  # ordinals -1, -2, ...
        super().__init__(start, end, timezone)

    def _ordinal(self, wall_clock: datetime) -> int:
        if wall_clock >= self._later[0]:
            self._extend_later(lambda: self._later[-1] <= wall_clock)
            return bisect_right(self._later, wall_clock) - 1
        self._extend_earlier(lambda: self._earlier[-1] > wall_clock if self._earlier else True)
        for position, tick in enumerate(self._earlier):  # short: ticks before the start
            if tick <= wall_clock:
                return -position - 1
        raise PartitionError(f"no tick of {self.schedule!r} at or before {wall_clock}")

    def _naive(self, ordinal: int) -> datetime:
        if ordinal >= 0:
            self._extend_later(lambda: len(self._later) <= ordinal)
            return self._later[ordinal]
        self._extend_earlier(lambda: len(self._earlier) < -ordinal)
        return self._earlier[-ordinal - 1]

    def _extend_later(self, needed: Any) -> None:
        if not needed():
            return
        ticks = CronSim(self.schedule, self._later[-1])
        while needed():
            self._later.append(self._next(ticks, "after"))

    def _extend_earlier(self, needed: Any) -> None:
        if not needed():
            return
        last = self._earlier[-1] if self._earlier else self._later[0]
        ticks = CronSim(self.schedule, last, reverse=True)
        while needed():
            self._earlier.append(self._next(ticks, "before"))

    def _next(self, ticks: CronSim, direction: str) -> datetime:
        if len(self._later) + len(self._earlier) >= MAX_TICKS:
            raise PartitionError(
                f"cron partitions {self.schedule!r}: more than {MAX_TICKS:,} ticks {direction} "
                f"{self._later[0]:%Y-%m-%dT%H:%M}; check `now`, or give the partitions an end"
            )
        try:
            return next(ticks)
        except StopIteration:
            raise PartitionError(
                f"cron partitions {self.schedule!r}: the schedule has no more ticks {direction} "
                f"{self._later[0]:%Y-%m-%dT%H:%M}"
            ) from None

    def _format(self, wall_clock: datetime) -> str:
        return f"{wall_clock.date().isoformat()}T{wall_clock.hour:02d}:{wall_clock.minute:02d}"

    def _parse_key(self, key: str) -> datetime | None:
        match = MINUTE_KEY.fullmatch(key)
        return None if match is None else checked_datetime(*match.groups())

    def _misalignment(self, wall_clock: datetime) -> str:
        before = self._format(self._naive(self._ordinal(wall_clock)))
        return f"it is not a tick of the schedule {self.schedule!r} (the tick before is {before})"

    def _identity(self) -> tuple[Any, ...]:
        end = None if self._end_ordinal is None else self._end_ordinal
        return (self.schedule, self._later[0].isoformat(), end, self._timezone)

    def describe(self) -> str:
        return super().describe().replace(self.kind, f"cron {self.schedule!r}", 1)

    def __repr__(self) -> str:
        start = self._format(self._later[0])
        end = None if self._end_ordinal is None else self._format(self._naive(self._end_ordinal))
        return (
            f"CronPartitions({self.schedule!r}, start={start!r}, end={end!r}, "
            f"timezone={self._timezone!r})"
        )

    def __getstate__(self) -> dict[str, Any]:
        # Ticks are a cache: ship the declaration to worker processes, not millions of ticks.
        state = dict(self.__dict__)
        state["_later"], state["_earlier"] = self._later[:1], []
        return state

    # Vectorized views: ticks are irregular, so look them up instead of stepping.

    def wall_starts(self, indices: np.ndarray) -> np.ndarray:
        import numpy as np

        indices = np.asarray(indices, dtype=np.int64)
        if not len(indices):
            return np.array([], dtype="datetime64[us]")
        ordinals = indices + self._start_ordinal
        low, high = int(ordinals.min()), int(ordinals.max())
        ticks = np.array([self._naive(o) for o in range(low, high + 1)], dtype="datetime64[us]")
        return ticks[ordinals - low]

    def wall_indices(self, wall_clocks: np.ndarray) -> np.ndarray:
        import numpy as np

        moments = np.asarray(wall_clocks).astype("datetime64[us]")
        if not len(moments):
            return np.array([], dtype=np.int64)
        low = self._ordinal(moments.min().astype(datetime))
        high = self._ordinal(moments.max().astype(datetime)) + 1
        ticks = self.wall_starts(np.arange(low, high + 1) - self._start_ordinal)
        found = np.searchsorted(ticks, moments, side="right") - 1 + low
        return found - self._start_ordinal
