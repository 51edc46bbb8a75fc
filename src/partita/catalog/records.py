"""Plain data the catalog stores and returns; shared by the runner, planner and CLI.

Unpartitioned assets have partition `None`. Timestamps are aware UTC datetimes.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import NamedTuple


def new_run_id(started: datetime) -> str:
    """A fresh, sortable run id: the start time in UTC to the second, then 6 random hex
    digits (two runs in one second clash once in 16 million draws; the catalog retries)."""
    return f"{started.astimezone(UTC).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"


def is_run_id(text: str) -> bool:
    """Whether `text` has the form of a run id (an ISO basic time with a UTC offset can
    look alike: `20261202T100652-092120`)."""
    return _RUN_ID.fullmatch(text) is not None


_RUN_ID = re.compile(r"\d{8}T\d{6}-[0-9a-f]{6}")


class AttemptStatus(StrEnum):
    """How one attempt of a unit ended, as the catalog stores it."""

    MATERIALIZED = "materialized"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class RunStatus(StrEnum):
    """Where a run is: running, or how it ended."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class ConsumedInput:
    """An upstream partition that a materialization read, at the data version it read."""

    asset: str
    partition: str | None
    data_version: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one data-quality check on the data of one attempt."""

    name: str
    severity: str  # "error" (blocks publishing) | "warn"
    passed: bool
    message: str | None = None


class FailedCheck(NamedTuple):
    """A check that did not pass in the latest attempt of its unit."""

    asset: str
    partition: str | None
    check: CheckResult


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """The run (and its process) currently holding a unit's lease."""

    run_id: str
    pid: int


@dataclass(frozen=True, slots=True)
class DeadLease:
    """A unit leased by a run whose process is gone (or, on another host, silent)."""

    asset: str
    partition: str | None
    run_id: str
    pid: int

    @property
    def error(self) -> str:
        """What the unit's interrupted attempt records."""
        return f"interrupted: run {self.run_id} (pid {self.pid}) died while working on it"


@dataclass(frozen=True, slots=True)
class MaterializationRecord:
    """One attempt of one unit (asset, partition), after its retries."""

    asset: str
    partition: str | None
    run_id: str
    status: str  # an AttemptStatus
    started: datetime
    finished: datetime
    attempts: int
    rows: int | None = None
    bytes: int | None = None
    data_version: str | None = None
    code_version: str | None = None
    inputs: tuple[ConsumedInput, ...] = ()
    watermark: str | None = None  # max of the watermark column, as text (ISO for datetimes)
    error: str | None = None
    checks: tuple[CheckResult, ...] = ()
    consumed_seq: int = 0  # catalog sequence as of which its inputs were read; 0 unknown
    deps_version: str | None = None  # what it reads: its dependencies and their mappings
    restored: bool = False  # it brought back an earlier data version (rollback, restore)
    traceback: str | None = None  # of a failure, secrets masked
    worker: str | None = None  # where it ran: "host:pid" of the executing process


@dataclass(frozen=True, slots=True)
class PartitionState:
    """The current state of one (asset, partition).

    The published fields (data_version, code_version, inputs, materialized_at, watermark,
    rows) come from the last successful attempt; last_status, last_attempt_at and error
    come from the last attempt of any outcome.

    The sequence numbers are catalog sequences (drawn from the catalog's counter by each
    recorded attempt, growing in commit order; 0 means none): `published_seq` is the
    attempt that first published the current data version (an identical rebuild keeps
    it), `consumed_seq` the sequence as of which the last successful attempt read its
    inputs, and `seq` the last attempt of any outcome.
    """

    partition: str | None
    last_status: str
    data_version: str | None
    code_version: str | None
    inputs: tuple[ConsumedInput, ...]
    materialized_at: datetime | None
    last_attempt_at: datetime
    watermark: str | None
    rows: int | None
    error: str | None
    published_seq: int = 0
    consumed_seq: int = 0
    seq: int = 0
    deps_version: str | None = None
    restored: bool = False  # the current data version was brought back by a restore


class StateRow(NamedTuple):
    """What planning needs of one partition state: a compact row, as
    `snapshot_and_changes` returns them (many at a time, so a tuple, not an object with
    parsed times). `materialized_at` is the UTC ISO-8601 text the catalog stores."""

    partition: str | None
    last_status: str
    has_data: bool  # some attempt published data (data_version is set); may be 1 or 0
    code_version: str | None
    published_seq: int
    consumed_seq: int
    materialized_at: str | None
    seq: int
    deps_version: str | None
    restored: bool = False  # the current data was brought back by a restore; may be 1 or 0


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One invocation of a command; counts are per unit status, as reported at its end."""

    run_id: str
    command: str
    started: datetime
    finished: datetime | None
    status: str  # a RunStatus
    counts: dict[str, int]
    pid: int | None


@dataclass(frozen=True)
class DynamicKeySet:
    """The keys of one set of dynamic partitions, in their order (index i is `keys[i]`).

    `generation` grows whenever a key is removed or placed before existing keys (which
    moves the indices of later keys); appending keys leaves it, so state kept by index
    stays valid."""

    name: str
    keys: tuple[str, ...]
    generation: int


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """The rows a unit's latest successful attempt set aside (`checks.quarantine`): how
    many of how many, by which checks, and where the quarantine dataset is (a folder
    relative to the warehouse). `rows` 0 means the latest attempt quarantined nothing."""

    asset: str
    partition: str | None
    run_id: str
    rows: int
    total_rows: int
    checks: tuple[str, ...]
    location: str
    recorded_at: datetime


class IncidentEvent(StrEnum):
    """What a notification of an incident said: it opened, or it resolved."""

    OPENED = "opened"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """One message about an incident sent (or tried) through one channel."""

    event: str  # an IncidentEvent
    channel: str  # the channel described without secrets ("webhook example.com")
    sent: datetime
    delivered: bool
    attempts: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """A problem an alert rule found, open until it resolves; `key` names what it is about
    (rule, asset, partition), so one unit failing again is the same open incident."""

    incident_id: int
    key: str
    rule: str
    kind: str  # the rule's `when`
    asset: str | None
    partition: str | None
    run_id: str | None
    opened: datetime
    message: str
    resolved: datetime | None = None
    notifications: tuple[NotificationRecord, ...] = ()
