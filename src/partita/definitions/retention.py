"""How long the replaced versions of a partition are kept: `retain` and `retain_versions`.

Declared per asset (`@asset(retain="7d", retain_versions=3)`) and as a project default
(`[tool.partita] retain = "7d"`, `retain_versions = 3`); an asset's own keys win. The
default keeps the last 3 replaced versions for 7 days; `retain_versions = 0` (or
`retain = "0d"`) keeps none, as partita did before it kept history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Retention:
    """Keep at most `versions` replaced versions of each partition (None: any number),
    each for at most `max_age` after it was replaced (None: forever)."""

    max_age: timedelta | None = timedelta(days=7)
    versions: int | None = 3

    @property
    def keeps(self) -> bool:
        """Whether replaced versions are kept at all."""
        return self.versions != 0 and (self.max_age is None or self.max_age > timedelta(0))

    def merged(self, retain: str | None, retain_versions: int | None) -> Retention:
        """This retention with the keys an asset sets replacing the defaults."""
        return Retention(
            parse_duration(retain) if retain is not None else self.max_age,
            retain_versions if retain_versions is not None else self.versions,
        )


DEFAULT_RETENTION = Retention()
NO_RETENTION = Retention(timedelta(0), 0)


def parse_duration(text: str) -> timedelta:
    """`"7d"`, `"12h"`, `"2w"`, `"30m"`, `"90s"` or a sum such as `"1d12h"`; ValueError else."""
    stripped = text.strip() if isinstance(text, str) else ""
    parts = _DURATION.findall(stripped)
    if not parts or _DURATION.sub("", stripped).strip():
        raise ValueError(
            f"retain={text!r} is not a duration; write a number and a unit, such as "
            f"'7d', '12h', '2w', '30m' or '1d12h'"
        )
    total = timedelta(0)
    for amount, unit in parts:
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total


def retention_problems(retain: Any, retain_versions: Any) -> list[str]:
    """What is wrong with the retention keys of a declaration (empty when nothing)."""
    problems = []
    if retain is not None:
        try:
            parse_duration(retain)
        except ValueError as error:
            problems.append(str(error))
    versions_ok = isinstance(retain_versions, int) and not isinstance(retain_versions, bool)
    if retain_versions is not None and not (versions_ok and retain_versions >= 0):
        problems.append(
            f"retain_versions={retain_versions!r} must be a whole number of versions, 0 or more"
        )
    return problems
