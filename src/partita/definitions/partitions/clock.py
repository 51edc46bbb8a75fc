"""Naive wall-clock times as instants, exact across every clock change.

A wall-clock time a clock change skipped (the spring-forward hour, or the whole day
Pacific/Apia skipped in 2011) names no moment; partita reads it as the instant of the
change, so a skipped partition is an empty interval there and consecutive partitions still
tile time. A repeated wall-clock time (fall back) names its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

_SECOND = timedelta(seconds=1)


def localize(wall_clock: datetime, zone: tzinfo) -> datetime:
    """The aware moment (in `zone`) the naive `wall_clock` names: its first occurrence when
    the clock repeats it, the instant the clock jumped when it skipped it."""
    moment = wall_clock.replace(tzinfo=zone, fold=0)
    before = moment.utcoffset()
    after = moment.replace(fold=1).utcoffset()
    if before is None or after is None or before >= after:
        return moment  # an ordinary time, or a repeated one (fold=0 is the first pass)
    return _transition(wall_clock - after, wall_clock - before, zone).astimezone(zone)


def _transition(earliest: datetime, latest: datetime, zone: tzinfo) -> datetime:
    """The first instant in (earliest, latest] (naive UTC) at which `zone` uses the later
    offset: the instant of the clock change. tz data changes clocks on whole seconds."""
    low = earliest.replace(tzinfo=UTC)
    high = latest.replace(tzinfo=UTC)
    later_offset = high.astimezone(zone).utcoffset()
    while high - low > _SECOND:
        middle = low + (high - low) // 2
        middle -= timedelta(microseconds=middle.microsecond)
        if middle <= low:
            middle = low + _SECOND
        if middle.astimezone(zone).utcoffset() == later_offset:
            high = middle
        else:
            low = middle
    return high
