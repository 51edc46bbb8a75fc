"""Under `--plan`: the concurrency pools the plan's units would wait for now."""

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
