"""Deferral (`--defer-to ENV`): a run in one environment reads the upstream assets it does
not select from another environment's warehouse and catalog instead of rebuilding them,
as dbt's `--defer` does. Nothing is ever written to that environment.

An upstream is deferred when it is read by a selected asset, is not selected itself, and
has not changed in code: every partition the other environment published was made by the
asset's current code version. The other environment's catalog sequences mean nothing
here, so a deferred partition counts as new data for a reader exactly when the reader
recorded another data version of it (or, never having read it, is missing anyway).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..catalog import catalog_path, open_catalog
from ..catalog.base import Catalog
from ..catalog.records import PartitionState
from ..discovery import ProjectConfig, load_config
from ..errors import UsageError
from ..graph.graph import AssetGraph

log = logging.getLogger("partita")

CHANGED_SEQ = 2**62  # later than any sequence of this catalog: "new data" for its readers

States = dict[str, dict[str | None, PartitionState]]


@dataclass(frozen=True)
class Deferral:
    """Which upstream assets a run reads from environment `env` (at `warehouse`), with
    their states there (sequences rebased for this catalog), and the upstreams that were
    not deferred with why."""

    env: str
    warehouse: Path
    states: States = field(default_factory=dict)
    not_deferred: Mapping[str, str] = field(default_factory=dict)

    @property
    def assets(self) -> frozenset[str]:
        return frozenset(self.states)

    def reads(self, assets: Iterable[str]) -> tuple[tuple[str, str], ...]:
        """The (asset, warehouse) pairs a job reading `assets` reads elsewhere."""
        return tuple((a, str(self.warehouse)) for a in sorted(set(assets) & set(self.states)))


def build_deferral(
    config: ProjectConfig, graph: AssetGraph, selected: Iterable[str], env: str, here: Catalog
) -> Deferral:
    """The deferral of a run of `selected` to environment `env`; `here` is this
    environment's catalog (read for what the readers recorded)."""
    other = load_config(config.root, env)
    if other.warehouse == config.warehouse:
        raise UsageError(
            f"--defer-to {env}: environment '{env}' uses the same warehouse as this one "
            f"({config.warehouse}); defer to an environment with another warehouse, set in "
            f"[tool.partita.env.{env}] warehouse = '...'."
        )
    if not catalog_path(other.warehouse).is_file():
        raise UsageError(
            f"--defer-to {env}: environment '{env}' has no catalog at "
            f"{catalog_path(other.warehouse)}: materialize its assets there first."
        )
    chosen = set(selected)
    upstream = sorted({d.upstream for name in chosen for d in graph.dependencies[name]} - chosen)
    states: States = {}
    not_deferred: dict[str, str] = {}
    with open_catalog(other.warehouse) as there:  # only read: never written
        for asset in upstream:
            theirs = there.states(asset)
            why = _why_not(graph, asset, theirs, env)
            if why:
                not_deferred[asset] = why
                log.warning("%s is read from this environment: %s", asset, why)
                continue
            states[asset] = _rebased(graph, asset, theirs, chosen, here)
    return Deferral(env, other.warehouse, states, not_deferred)


def _why_not(
    graph: AssetGraph, asset: str, theirs: Mapping[str | None, PartitionState], env: str
) -> str | None:
    published = [s for s in theirs.values() if s.data_version is not None]
    if not published:
        return f"environment '{env}' has no materialized partition of it"
    code = graph[asset].code_version
    if any(state.code_version != code for state in published):
        return f"its code changed since environment '{env}' materialized it"
    return None


def _rebased(
    graph: AssetGraph,
    asset: str,
    theirs: Mapping[str | None, PartitionState],
    readers: set[str],
    here: Catalog,
) -> dict[str | None, PartitionState]:
    """The deferred asset's states with `published_seq` meaningful in this catalog."""
    recorded: dict[str | None, set[str]] = {}
    for reader in sorted(readers & set(graph.downstream[asset])):
        for state in here.states(reader).values():
            for read in state.inputs:
                if read.asset == asset:
                    recorded.setdefault(read.partition, set()).add(read.data_version)
    rebased = {}
    for key, state in theirs.items():
        seen = recorded.get(key, set())
        changed = bool(seen - {state.data_version})
        rebased[key] = replace(
            state, published_seq=CHANGED_SEQ if changed else 0, consumed_seq=0, seq=0
        )
    return rebased
