"""Status: per asset, how many targeted partitions are fresh, stale, missing or failed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..catalog.records import CheckResult
from .plan import Plan
from .staleness import FAILED, MISSING

FRESH = "fresh"
STALE = "stale"
STATES = (FRESH, STALE, "missing", "failed")


@dataclass(frozen=True)
class PartitionStatus:
    partition: str | None
    state: str
    reason: str | None


@dataclass(frozen=True)
class AssetStatus:
    """The state of every targeted partition of one asset, and the checks that failed in
    the latest attempts of its partitions."""

    asset: str
    partitions: tuple[PartitionStatus, ...]
    failed_checks: tuple[tuple[str | None, CheckResult], ...] = ()

    def count(self, state: str) -> int:
        return sum(1 for partition in self.partitions if partition.state == state)

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            **{state: self.count(state) for state in STATES},
            "partitions": [
                {"partition": p.partition, "state": p.state, "reason": p.reason}
                for p in self.partitions
            ],
            "failed_checks": [
                {
                    "partition": partition,
                    "check": check.name,
                    "severity": check.severity,
                    "message": check.message,
                }
                for partition, check in self.failed_checks
            ],
        }


def state_of(reason: str | None) -> str:
    if reason is None:
        return FRESH
    if reason == MISSING:
        return "missing"
    if reason == FAILED:
        return "failed"
    return STALE


def build_status(
    plan: Plan,
    assets: list[str],
    failed_checks: Iterable[tuple[str, str | None, CheckResult]] = (),
) -> list[AssetStatus]:
    """Statuses of the selected assets, from a plan over them and their upstream."""
    by_asset: dict[str, list[PartitionStatus]] = {asset: [] for asset in assets}
    for unit in plan.units:
        if unit.asset in by_asset:
            by_asset[unit.asset].append(
                PartitionStatus(unit.partition, state_of(unit.reason), unit.reason)
            )
    checks: dict[str, list[tuple[str | None, CheckResult]]] = {asset: [] for asset in assets}
    for asset, partition, check in failed_checks:
        if asset in checks:
            checks[asset].append((partition, check))
    return [
        AssetStatus(asset, tuple(partitions), tuple(checks[asset]))
        for asset, partitions in by_asset.items()
    ]
