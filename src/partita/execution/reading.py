"""Reading an asset's published data back, by partition key or inclusive key range.

Only partitions the catalog records as materialized are read: a stray folder in the
asset's folder (`date=junk`), or a file a killed run wrote but never recorded, is not data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..catalog.base import Catalog
from ..definitions.partitions import Partitions
from ..errors import PartitionError, StorageError
from ..graph.graph import AssetGraph
from ..planning.targets import PartitionRange, target_indices
from ..storage.registry import open_asset_storage


def read_asset(
    graph: AssetGraph,
    warehouse: Path,
    catalog: Catalog,
    asset: str,
    requested: PartitionRange | None,
) -> pa.Table:
    """The asset's data: everything (None), one partition, or the materialized partitions
    of an inclusive range. A single partition that was never materialized is an error."""
    storage = open_asset_storage(graph[asset], warehouse)
    partitions = graph[asset].partitions
    if partitions is None:
        return storage.read(None)
    published = _published_indices(partitions, catalog.states(asset))
    if requested is None:
        if not published:
            raise StorageError(
                f"asset '{asset}' has no materialized partition yet. Materialize it first: "
                f"partita materialize {asset}"
            )
        return storage.read([partitions.key(index) for index in sorted(published)])
    indices = target_indices(graph[asset], requested, datetime.now(UTC))
    if len(indices) == 1 and indices[0] not in published:
        key = partitions.key(indices[0])
        raise PartitionError(
            f"asset '{asset}' partition {key} has not been materialized. Materialize it "
            f"first: partita materialize {asset} --partition {key}"
        )
    keys = [partitions.key(index) for index in indices if index in published]
    if not keys:
        raise PartitionError(
            f"asset '{asset}' has no materialized partition between {requested.first} and "
            f"{requested.last}. Materialize them first: partita materialize {asset} "
            f"--from {requested.first} --to {requested.last}"
        )
    return storage.read(keys)


def _published_indices(partitions: Partitions, states: dict[str | None, Any]) -> set[int]:
    """The indices of the partitions holding published data (keys the partitions no longer
    declare are left out: nothing can read them)."""
    indices = set()
    for key, state in states.items():
        if key is None or state.data_version is None:
            continue
        try:
            indices.add(partitions.index(key))
        except PartitionError:
            continue
    return indices
