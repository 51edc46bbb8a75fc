"""An in-run cache of upstream partitions, so a partition written or read once in a run is
not read from disk again (a 7-day window reads each day seven times).

Only data of storages that read back exactly what they wrote is cached (Parquet: its
canonical form, `partita.storage.canonical`, round-trips; the contract suite checks it),
so a unit sees the same input whether it came from the cache or from disk.
"""

from __future__ import annotations

from collections import OrderedDict

import pyarrow as pa

DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024


class TableCache:
    """Least-recently-used Arrow tables keyed by (asset, partition, data version)."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self._tables: OrderedDict[tuple[str, str | None, str], pa.Table] = OrderedDict()
        self._size = 0

    def get(self, asset: str, partition: str | None, data_version: str) -> pa.Table | None:
        key = (asset, partition, data_version)
        table = self._tables.get(key)
        if table is not None:
            self._tables.move_to_end(key)
        return table

    def put(self, asset: str, partition: str | None, data_version: str, table: pa.Table) -> None:
        key = (asset, partition, data_version)
        if key in self._tables or table.nbytes > self.budget_bytes:
            return
        self._tables[key] = table
        self._size += table.nbytes
        while self._size > self.budget_bytes:
            _, evicted = self._tables.popitem(last=False)
            self._size -= evicted.nbytes
