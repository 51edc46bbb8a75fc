"""Policies attached to assets: freshness expectations and retry behaviour."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: timedelta | str | float | int) -> timedelta:
    """Parse `30m`, `6h`, `2d` (or a timedelta, or seconds) into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(
            f"cannot read the duration {value!r}: write a number and a unit, "
            "such as '30m', '6h' or '2d' (units s, m, h, d, w)"
        )
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def format_duration(duration: timedelta) -> str:
    """`10m`, `2h`, `90s`: the largest unit that divides the duration exactly."""
    seconds = duration.total_seconds()
    for unit in ("w", "d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class FreshnessPolicy:
    """The latest partition must be materialized within `max_lag` of its interval end."""

    max_lag: timedelta

    def __init__(self, max_lag: timedelta | str) -> None:
        lag = parse_duration(max_lag)
        if lag < timedelta(0):
            raise ValueError(f"FreshnessPolicy(max_lag=...) must not be negative, not {max_lag!r}")
        object.__setattr__(self, "max_lag", lag)


@dataclass(frozen=True)
class Retry:
    """Retry a failing unit with exponential backoff: delay = initial_delay * backoff**n."""

    max_attempts: int = 3
    initial_delay: float = 1.0
    backoff: float = 2.0
    max_delay: float = 60.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ValueError("Retry(max_attempts=...) must be a whole number, at least 1")
        if self.initial_delay < 0 or self.max_delay < 0 or self.backoff < 1:
            raise ValueError("Retry delays must be >= 0 and backoff >= 1")

    def delay(self, attempt: int) -> float:
        """The delay before retry number `attempt` (1 for the first retry), without jitter."""
        return min(self.max_delay, self.initial_delay * self.backoff ** (attempt - 1))


NO_RETRY = Retry(max_attempts=1, initial_delay=0.0)
