"""Reading time keys and partition bounds: `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDTHH`,
`YYYY-MM-DDTHH:MM`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from partita.errors import DefinitionError

MONTH_KEY = re.compile(r"(\d{4})-(\d{2})")
DAY_KEY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
HOUR_KEY = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2})")
MINUTE_KEY = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})")


def load_zone(timezone: object) -> ZoneInfo:
    try:
        if not isinstance(timezone, str):
            raise TypeError(timezone)
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise DefinitionError(
            f"invalid partition bounds: unknown timezone {timezone!r}; use an IANA name such "
            "as 'UTC' or 'America/New_York'"
        ) from None


def parse_bound(text: str) -> datetime | None:
    match = MONTH_KEY.fullmatch(text)
    if match is not None:
        return checked_datetime(*match.groups(), "01")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def checked_datetime(
    year: str, month: str, day: str, hour: str = "0", minute: str = "0"
) -> datetime | None:
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute))
    except ValueError:
        return None


def wall_clock_interval(key: str) -> tuple[datetime, datetime] | None:
    """The naive wall-clock interval [start, end) a minute (`YYYY-MM-DDTHH:MM`), hour
    (`YYYY-MM-DDTHH`), day (`YYYY-MM-DD`) or month (`YYYY-MM`) key spells; None for
    anything else."""
    try:
        if match := MINUTE_KEY.fullmatch(key):
            start = checked_datetime(*match.groups())
            return None if start is None else (start, start + timedelta(minutes=1))
        if match := HOUR_KEY.fullmatch(key):
            start = checked_datetime(*match.groups())
            return None if start is None else (start, start + timedelta(hours=1))
        if match := DAY_KEY.fullmatch(key):
            start = checked_datetime(*match.groups())
            return None if start is None else (start, start + timedelta(days=1))
        if match := MONTH_KEY.fullmatch(key):
            start = checked_datetime(*match.groups(), "01")
            if start is None:
                return None
            year, month = divmod(start.month, 12)
            return start, start.replace(year=start.year + year, month=month + 1)
    except (OverflowError, ValueError):  # past the year 9999
        return None
    return None
