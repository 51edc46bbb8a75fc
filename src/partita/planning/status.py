"""Status: per asset, how many targeted partitions are fresh, stale, missing or failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    """The state of every targeted partition of one asset."""

    asset: str
    partitions: tuple[PartitionStatus, ...]

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
        }


def state_of(reason: str | None) -> str:
    if reason is None:
        return FRESH
    if reason == MISSING:
        return "missing"
    if reason == FAILED:
        return "failed"
    return STALE


def build_status(plan: Plan, assets: list[str]) -> list[AssetStatus]:
    """Statuses of the selected assets, from a plan over them and their upstream."""
    by_asset: dict[str, list[PartitionStatus]] = {asset: [] for asset in assets}
    for unit in plan.units:
        if unit.asset in by_asset:
            by_asset[unit.asset].append(
                PartitionStatus(unit.partition, state_of(unit.reason), unit.reason)
            )
    return [AssetStatus(asset, tuple(partitions)) for asset, partitions in by_asset.items()]
