"""Opening storages: a declaration's `kind` names the module that implements it.

Adding a storage backend: a module with `open_declared(declaration, warehouse, asset,
hive_key) -> Storage`, an entry in `BACKENDS`, and the contract suite
(`tests/storage/contract/`) passing against it. Modules are imported on first use, so
`partita --version` loads none of them.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from partita.errors import StorageError
from partita.storage.object_location import ObjectWarehouse

if TYPE_CHECKING:
    from partita.definitions.asset import AssetDefinition
    from partita.definitions.retention import Retention
    from partita.definitions.storage import StorageDeclaration
    from partita.storage.base import Storage

BACKENDS: dict[str, str] = {
    "parquet": "partita.storage.parquet",
    "duckdb": "partita.storage.duckdb",
}
# Warehouses on object storage (`storage.object_location`), by URL scheme: Parquet only.
OBJECT_BACKENDS: dict[str, str] = {"s3": "partita.storage.s3_parquet"}


def open_storage(
    declaration: StorageDeclaration, warehouse: Path, asset: str, hive_key: str | None
) -> Storage:
    """Build the storage for `asset` as declared; `hive_key` is None for an unpartitioned
    asset (the key its partitions name in paths otherwise)."""
    if isinstance(warehouse, ObjectWarehouse):
        return _open_object_storage(declaration, warehouse, asset, hive_key)
    module_name = BACKENDS.get(declaration.kind)
    if module_name is None:
        raise StorageError(
            f"Asset {asset!r} declares storage {declaration!r} of kind {declaration.kind!r}, "
            f"which partita does not know (known kinds: {', '.join(sorted(BACKENDS))}). "
            f"Use Parquet() or DuckDB(...)."
        )
    module = importlib.import_module(module_name)
    return module.open_declared(declaration, warehouse, asset, hive_key)


def _open_object_storage(
    declaration: StorageDeclaration, warehouse: ObjectWarehouse, asset: str, hive_key: str | None
) -> Storage:
    """Parquet on object storage; DuckDB needs a local file."""
    if declaration.kind != "parquet":
        raise StorageError(
            f"Asset {asset!r} declares storage {declaration!r}, but the warehouse {warehouse}"
            " is on object storage, where only Parquet() is stored: a DuckDB file needs a"
            " local path. Use Parquet() for this asset, or a local warehouse folder."
        )
    module = importlib.import_module(OBJECT_BACKENDS[warehouse.scheme])
    return module.open_declared(declaration, warehouse, asset, hive_key)


def open_asset_storage(
    definition: AssetDefinition, warehouse: Path, retention: Retention | None = None
) -> Storage:
    """The storage of a declared asset, keyed by its partitions' hive key; `retention`
    (the asset's, see `AssetGraph.retention`) says whether replaced versions are kept."""
    hive_key = definition.partitions.hive_key if definition.partitions else None
    storage = open_storage(definition.storage, warehouse, definition.name, hive_key)
    if retention is not None and not retention.keeps:
        storage.keep_history = False
    return storage
