"""Automation conditions: when the daemon materializes an asset's partitions.

Plain data, evaluated by `partita.automation.evaluate` (pure: state and now in, requests
out). Conditions combine with `&`, `|` and `~`; each selects partitions, and the daemon
requests the selected partitions that need work (missing or stale). A cron condition on an
unpartitioned asset requests it even when it is up to date: a cron tick means "refresh".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class AutomationCondition:
    """The base of every condition; combine them with `&`, `|` and `~`."""

    max_catch_up: int | None = None
    catchup: bool = True

    def __and__(self, other: AutomationCondition) -> AutomationCondition:
        return AllOf((self, _checked(other)))

    def __or__(self, other: AutomationCondition) -> AutomationCondition:
        return AnyOf((self, _checked(other)))

    def __invert__(self) -> AutomationCondition:
        return Not(self)

    def children(self) -> tuple[AutomationCondition, ...]:
        return ()

    def walk(self):
        """This condition and every condition inside it."""
        yield self
        for child in self.children():
            yield from child.walk()

    def limits(self) -> tuple[int | None, bool]:
        """The strictest `max_catch_up` and `catchup` found anywhere in the condition:
        they limit the asset's whole request."""
        caps = [c.max_catch_up for c in self.walk() if c.max_catch_up is not None]
        return (min(caps) if caps else None), all(c.catchup for c in self.walk())


def _checked(other: object) -> AutomationCondition:
    if not isinstance(other, AutomationCondition):
        raise TypeError(f"automation conditions combine only with other conditions, not {other!r}")
    return other


def _limit(max_catch_up: int | None) -> int | None:
    if max_catch_up is not None and (not isinstance(max_catch_up, int) or max_catch_up < 1):
        raise ValueError(f"max_catch_up must be a whole number, at least 1, not {max_catch_up!r}")
    return max_catch_up


@dataclass(frozen=True)
class OnCron(AutomationCondition):
    """Partitions that became due at a cron tick: those ending at or before the latest tick
    of `schedule` (in `timezone`) at now. Unpartitioned: a tick passed since the last
    evaluation."""

    schedule: str
    timezone: str = "UTC"
    max_catch_up: int | None = None
    catchup: bool = True

    def __post_init__(self) -> None:
        _limit(self.max_catch_up)
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"on_cron(timezone={self.timezone!r}): unknown time zone; use an IANA name "
                "such as 'UTC' or 'Europe/Paris'"
            ) from None
        from cronsim import CronSim, CronSimError

        try:
            CronSim(self.schedule, datetime(2000, 1, 1, tzinfo=zone))
        except CronSimError as error:
            raise ValueError(
                f"on_cron({self.schedule!r}) is not a cron expression: {error}. Write five "
                "fields, e.g. '0 6 * * *' for 06:00 every day"
            ) from None

    def __str__(self) -> str:
        return f"on_cron {self.schedule!r} ({self.timezone})"


@dataclass(frozen=True)
class Eager(AutomationCondition):
    """Partitions an upstream partition they read got new data for, and partitions that
    appeared since the last evaluation."""

    max_catch_up: int | None = None
    catchup: bool = True

    def __post_init__(self) -> None:
        _limit(self.max_catch_up)

    def __str__(self) -> str:
        return "eager"


@dataclass(frozen=True)
class OnMissing(AutomationCondition):
    """Partitions never materialized, from the start (the newest first under a limit)."""

    max_catch_up: int | None = None
    catchup: bool = True

    def __post_init__(self) -> None:
        _limit(self.max_catch_up)

    def __str__(self) -> str:
        return "on_missing"


@dataclass(frozen=True)
class AllOf(AutomationCondition):
    """Partitions every condition selects (`a & b`)."""

    conditions: tuple[AutomationCondition, ...]

    def children(self) -> tuple[AutomationCondition, ...]:
        return self.conditions

    def __str__(self) -> str:
        return "(" + " & ".join(str(c) for c in self.conditions) + ")"


@dataclass(frozen=True)
class AnyOf(AutomationCondition):
    """Partitions any condition selects (`a | b`)."""

    conditions: tuple[AutomationCondition, ...]

    def children(self) -> tuple[AutomationCondition, ...]:
        return self.conditions

    def __str__(self) -> str:
        return "(" + " | ".join(str(c) for c in self.conditions) + ")"


@dataclass(frozen=True)
class Not(AutomationCondition):
    """Partitions the condition does not select (`~a`)."""

    condition: AutomationCondition

    def children(self) -> tuple[AutomationCondition, ...]:
        return (self.condition,)

    def __str__(self) -> str:
        return f"~{self.condition}"


def on_cron(
    schedule: str,
    timezone: str = "UTC",
    *,
    max_catch_up: int | None = None,
    catchup: bool = True,
) -> OnCron:
    """Materialize the partitions that became due at each tick of the cron `schedule`
    (five fields, e.g. `"0 6 * * *"`), read in `timezone`. `max_catch_up=N` requests at
    most N partitions per evaluation (newest first, the rest later); `catchup=False` only
    the latest partition."""
    return OnCron(schedule, timezone, max_catch_up, catchup)


def eager(*, max_catch_up: int | None = None, catchup: bool = True) -> Eager:
    """Materialize a partition when an upstream partition it reads has new data, or when
    it is a new partition."""
    return Eager(max_catch_up, catchup)


def on_missing(*, max_catch_up: int | None = None, catchup: bool = True) -> OnMissing:
    """Materialize every missing partition, from the start."""
    return OnMissing(max_catch_up, catchup)
