"""Why a unit must run: a `ReasonKind` and, for upstream reasons, which upstream partition.

Reasons stay values while partita decides things; `str(reason)` makes the text the CLI,
the JSON report and the README show (`missing`, `upstream changed: orders 2024-01-05`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ..errors import unit_label


class ReasonKind(IntEnum):
    """The kinds of reasons, in the order the planner checks them; the values are stored
    in plans' int8 `kinds` arrays, UP_TO_DATE (0) meaning no reason."""

    UP_TO_DATE = 0
    FORCED = 1
    MISSING = 2
    FAILED = 3
    CODE_CHANGED = 4
    DEPS_CHANGED = 5
    UPSTREAM_STALE = 6
    UPSTREAM_CHANGED = 7
    OVERDUE = 8
    UPSTREAM_RESTORED = 9  # an upstream read was restored to an earlier version since


_TEXT = {
    ReasonKind.FORCED: "forced",
    ReasonKind.MISSING: "missing",
    ReasonKind.FAILED: "failed last time",
    ReasonKind.CODE_CHANGED: "code changed",
    ReasonKind.DEPS_CHANGED: "dependencies changed",
    ReasonKind.UPSTREAM_STALE: "upstream stale",
    ReasonKind.UPSTREAM_CHANGED: "upstream changed",
    ReasonKind.UPSTREAM_RESTORED: "upstream restored",
}
UPSTREAM_KINDS = (
    ReasonKind.UPSTREAM_STALE,
    ReasonKind.UPSTREAM_CHANGED,
    ReasonKind.UPSTREAM_RESTORED,
)


@dataclass(frozen=True)
class Reason:
    """Why a unit must run. Upstream reasons name the upstream asset and partition key
    (None when unpartitioned); an overdue catch-up carries its text (`overdue: ...`)."""

    kind: ReasonKind
    upstream: str | None = None
    upstream_key: str | None = None
    text: str | None = None

    def __str__(self) -> str:
        if self.kind == ReasonKind.OVERDUE:
            return self.text or "overdue"
        if self.kind in UPSTREAM_KINDS:
            return f"{_TEXT[self.kind]}: {unit_label(self.upstream or '', self.upstream_key)}"
        return _TEXT[self.kind]


def fixed_reason_text(kind: ReasonKind) -> str:
    """The text of a reason that names nothing else (`missing`, `forced`, ...)."""
    return _TEXT[kind]


FORCED = fixed_reason_text(ReasonKind.FORCED)
MISSING = fixed_reason_text(ReasonKind.MISSING)
FAILED = fixed_reason_text(ReasonKind.FAILED)
CODE_CHANGED = fixed_reason_text(ReasonKind.CODE_CHANGED)
DEPS_CHANGED = fixed_reason_text(ReasonKind.DEPS_CHANGED)
FIXED_KINDS = (
    ReasonKind.FORCED,
    ReasonKind.MISSING,
    ReasonKind.FAILED,
    ReasonKind.CODE_CHANGED,
    ReasonKind.DEPS_CHANGED,
)
