"""Helpers for testing a partita project's assets with pytest.

- `build_context(asset, partition_key=..., watermark=..., now=...)`: the `context` to call
  an asset function directly.
- `materialize_in_memory(assets, partition=..., inputs={...})`: run assets in topological
  order without a warehouse or catalog (checks and quarantines applied), returning each
  asset's output by name.
- the pytest fixture `partita_project` (registered by partita's pytest plugin): a copy of
  the project in a temporary folder, with its own empty warehouse.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ..definitions.asset import AssetDefinition, asset
from ..definitions.context import AssetContext
from ..definitions.partitions import TimePartitions
from ..definitions.resources import resource
from ..errors import PartitionError, UsageError
from ..graph.graph import build_graph
from ..planning.staleness import UpstreamRead

__all__ = ["build_context", "materialize_in_memory"]

TEST_RUN_ID = "test"


def build_context(
    definition: AssetDefinition | None = None,
    *,
    partition_key: str | None = None,
    watermark: object = None,
    now: datetime | None = None,
    run_id: str = TEST_RUN_ID,
) -> AssetContext:
    """The `context` a run would give `definition` for `partition_key` (for a time
    partitioned asset without a key: the latest partition complete at `now`), so that
    the function can be called directly: `flights.fn(build_context(flights, ...))`."""
    name = definition.name if definition is not None else "asset"
    partitions = definition.partitions if definition is not None else None
    start = end = None
    if isinstance(partitions, TimePartitions):
        if partition_key is None:
            moment = now or datetime.now(UTC)
            partition_key = partitions.key(partitions.last_complete_index(moment))
        index = partitions.index(partition_key)
        start, end = partitions.partition_start(index), partitions.partition_end(index)
    elif partitions is not None and partition_key is not None:
        partitions.index(partition_key)  # a PartitionError for a key it does not have
    return AssetContext(
        asset_name=name,
        partition_key=partition_key,
        partition_start=start,
        partition_end=end,
        run_id=run_id,
        log=logging.getLogger(f"partita.assets.{name}"),
        watermark=watermark,
    )


def materialize_in_memory(
    assets: AssetDefinition | Iterable[AssetDefinition],
    partition: str | None = None,
    *,
    inputs: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    watermark: object = None,
    now: datetime | None = None,
    as_arrow: bool = False,
) -> dict[str, Any]:
    """Run `assets` (in dependency order) for one partition without a warehouse; return
    `{asset name: output}` as pandas DataFrames (Arrow tables with `as_arrow`).

    An upstream asset that is not in `assets` must be given in `inputs` (a DataFrame, an
    Arrow table or a Polars frame); it is passed whole to the assets reading it. Outputs
    pass through the checks, quarantines and canonical form a run applies (a failing
    blocking check raises). `resources` gives objects for resource parameters by name.
    `partition` is the key of every partitioned asset in `assets`."""
    from ..execution.io import load_inputs, to_arrow

    definitions = [assets] if isinstance(assets, AssetDefinition) else list(assets)
    given = {name: to_arrow(name, None, value) for name, value in (inputs or {}).items()}
    stand_ins = [resource(name=name)(lambda: None) for name in resources or {}]
    graph = build_graph([*definitions, *_stubs(definitions, given), *stand_ins])
    outputs: dict[str, Any] = dict(given)
    for name in graph.order:
        if name in given:
            continue
        definition = graph[name]
        key = partition if definition.partitions is not None else None
        if definition.partitions is not None and key is None:
            raise UsageError(f"asset '{name}' is partitioned: pass partition='KEY'")
        reads = [
            UpstreamRead(dep.upstream, None, "in-memory", dep.parameter)
            for dep in graph.dependencies[name]
            if dep.parameter
        ]
        with _Connection() as relations:
            arguments = load_inputs(
                definition, reads, lambda group: outputs[group[0].asset], relations.get
            )
            arguments.update(_extras(definition, key, watermark, now, resources or {}))
            table = to_arrow(name, key, definition.fn(**arguments))
        outputs[name] = _audited(name, key, definition, table)
    return {
        name: table if as_arrow else table.to_pandas()
        for name, table in outputs.items()
        if name not in given
    }


def _stubs(definitions: list[AssetDefinition], given: Mapping[str, Any]) -> list[AssetDefinition]:
    """An unpartitioned stand-in asset for each input, so the graph resolves."""
    defined = {definition.name for definition in definitions}
    return [asset(name=name)(lambda: None) for name in given if name not in defined]


def _extras(
    definition: AssetDefinition,
    key: str | None,
    watermark: object,
    now: datetime | None,
    resources: Mapping[str, Any],
) -> dict[str, Any]:
    """The context and resources the function's other parameters ask for."""
    extras: dict[str, Any] = {}
    for parameter in definition.parameters:
        if parameter.name == "context":
            try:
                extras["context"] = build_context(
                    definition, partition_key=key, watermark=watermark, now=now
                )
            except PartitionError as error:
                raise UsageError(f"asset '{definition.name}': {error}") from None
        elif parameter.name in resources:
            extras[parameter.name] = resources[parameter.name]
    return extras


def _audited(name: str, key: str | None, definition: AssetDefinition, table: Any) -> Any:
    """The table in canonical form, quarantined rows removed, checks passed."""
    from ..errors import describe_unit
    from ..execution.quality import run_checks
    from ..execution.quarantine import apply_quarantines
    from ..storage.canonical import canonical_table

    where = describe_unit(name, key)
    table = canonical_table(table, where, "memory")
    quarantined = apply_quarantines(where, definition.checks, table)
    run_checks(where, definition.checks, quarantined.kept, quarantined.results)
    return quarantined.kept


class _Connection:
    """An in-memory DuckDB connection for relation parameters, opened when first asked."""

    def __init__(self) -> None:
        self._connection = None

    def get(self) -> Any:
        if self._connection is None:
            import duckdb

            self._connection = duckdb.connect()
        return self._connection

    def __enter__(self) -> _Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._connection is not None:
            self._connection.close()
