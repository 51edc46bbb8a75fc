"""The publish guard: a unit's data becomes visible only while its run holds the unit's lease.

Storage calls the guard just before the rename or commit that publishes a write. A run
whose lease was taken over (another run decided it was dead) or whose coordinator is gone
must not replace what the new holder publishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..catalog.records import LeaseHolder
from ..errors import EXIT_FAILED, PartitaError, PermanentError, describe_unit


class LeaseLostError(PartitaError, PermanentError):
    """The run no longer holds the unit's lease: its write was not published."""

    exit_code = EXIT_FAILED


class LeaseReader(Protocol):
    """The read-only catalog query the guard needs."""

    def lease_holder(self, asset: str, partition: str | None) -> LeaseHolder | None: ...


@dataclass
class LeaseGuard:
    """Refuses to publish a unit whose lease the catalog no longer gives to its run."""

    catalog: LeaseReader

    def __call__(self, asset: str, partition: str | None, run_id: str) -> None:
        holder = self.catalog.lease_holder(asset, partition)
        if holder is not None and holder.run_id == run_id:
            return
        now = "nobody" if holder is None else f"run {holder.run_id} (pid {holder.pid})"
        raise LeaseLostError(
            f"{describe_unit(asset, partition)}: not published: run {run_id} no longer holds "
            f"its lease (held by {now}), so another run may be writing it. Nothing of this "
            "attempt was written; run the command again if the unit is still missing."
        )
