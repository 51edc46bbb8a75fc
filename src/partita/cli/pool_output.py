"""Under `--plan`: the concurrency pools the plan's units would wait for now (a line per
full pool; with `--json`, a `pools` entry per pool the plan uses)."""

from __future__ import annotations

from typing import Any

import click


def print_pool_waits(session: Any, plan: Any) -> None:
    """One line per full pool the plan uses: `waiting for pool NAME (2 of 2 slots held)`."""
    from ..execution.pools import full_pools, waiting_text

    pools = session.config.pools
    if not pools:
        return
    units = plan.to_run
    full = full_pools(session.catalog, session.graph, pools, {u.asset for u in units})
    for pool, (held, size) in full.items():
        using = sum(1 for u in units if session.graph[u.asset].pool == pool)
        click.echo(
            f"{waiting_text(pool)} ({held} of {size} slots held by other runs): "
            f"{using} units of this plan would wait"
        )


def pool_summary(session: Any, plan: Any) -> list[dict[str, Any]]:
    """Per pool the plan's units use: its size, the slots other runs hold now, the assets
    and the number of units of the plan using it, and whether they would wait (the pool
    is full now)."""
    pools = session.config.pools
    if not pools:
        return []
    using: dict[str, int] = {}
    assets: dict[str, set[str]] = {}
    for asset_plan in plan.assets:  # counts per asset: no object per unit
        pool = session.graph[asset_plan.asset].pool
        count = int((asset_plan.kinds != 0).sum())  # 0: up to date
        if pool in pools and count:
            using[pool] = using.get(pool, 0) + count
            assets.setdefault(pool, set()).add(asset_plan.asset)
    held = {pool: len(session.catalog.pool_slots(pool)) for pool in using}
    return [
        {
            "pool": pool,
            "size": pools[pool],
            "held": held[pool],
            "assets": sorted(assets[pool]),
            "units": using[pool],
            "would_wait": held[pool] >= pools[pool],
        }
        for pool in sorted(using)
    ]
