"""Reading an asset's published data back, by partition key or inclusive key range."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from ..errors import PartitionError
from ..planning.targets import PartitionRange, target_indices

if TYPE_CHECKING:
    from ..project import Project


def read_asset(project: Project, asset: str, requested: PartitionRange | None) -> pa.Table:
    """The asset's data: everything (None), one partition, or the materialized partitions
    of an inclusive range. A single partition that was never written is an error."""
    storage = project.storage(asset)
    definition = project.graph[asset]
    if requested is None or definition.partitions is None:
        return storage.read(None)
    indices = target_indices(definition, requested, datetime.now(UTC))
    keys = [definition.partitions.key(index) for index in indices]
    if len(keys) > 1:
        keys = [key for key in keys if storage.exists(key)]
    if not keys:
        raise PartitionError(
            f"asset '{asset}' has no materialized partition between {requested.first} and "
            f"{requested.last}. Materialize them first: partita materialize {asset} "
            f"--from {requested.first} --to {requested.last}"
        )
    return storage.read(keys)
