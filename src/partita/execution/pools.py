"""Concurrency pools: at most N units of a pool run at once, across every process.

A unit of an asset with `pool=` takes a slot of that pool in the catalog before it runs
and frees it when it ends; slots of dead processes are freed by the next taker. A unit
finding its pool full waits (`waiting for pool NAME`) and is tried again shortly.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from ..catalog.automation_records import current_holder
from ..catalog.base import Catalog
from ..graph.graph import AssetGraph
from ..planning.staleness import Unit

POOL_STALE_AFTER_S = 30.0  # a slot of another host not refreshed for this long is freed


def waiting_text(pool: str) -> str:
    return f"waiting for pool {pool}"


class PoolGate:
    """The slots one run holds."""

    def __init__(
        self, graph: AssetGraph, catalog: Catalog, run_id: str, sizes: Mapping[str, int]
    ) -> None:
        self.graph = graph
        self.catalog = catalog
        self.run_id = run_id
        self.sizes = sizes
        self.holder = current_holder()
        self.held: dict[Unit, str] = {}

    def acquire(self, unit: Unit) -> str | None:
        """Take a slot for the unit; the name of its pool when that pool is full."""
        pool = self.graph[unit[0]].pool
        if pool is None or unit in self.held:
            return None
        size = self.sizes.get(pool)
        if size is None:
            return None  # checked when the project loads; a pool unknown here is not limited
        taken = self.catalog.acquire_pool_slot(
            pool, size, unit, self.run_id, self.holder, datetime.now(UTC), POOL_STALE_AFTER_S
        )
        if not taken:
            return pool
        self.held[unit] = pool
        return None

    def release(self, unit: Unit) -> None:
        pool = self.held.pop(unit, None)
        if pool is not None:
            self.catalog.release_pool_slot(pool, unit, self.run_id)

    def release_all(self) -> None:
        for unit in list(self.held):
            self.release(unit)


def full_pools(catalog: Catalog, graph: AssetGraph, sizes: Mapping[str, int], assets) -> dict:
    """The pools the given assets use that are full now: {pool: (held, size)}."""
    used = {graph[a].pool for a in assets if graph[a].pool in sizes}
    full = {}
    for pool in sorted(used):
        held = len(catalog.pool_slots(pool))
        if held >= sizes[pool]:
            full[pool] = (held, sizes[pool])
    return full
