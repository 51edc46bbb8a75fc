"""OpenLineage datasets of partita assets: named by where their storage keeps them, with
the facets of one attempt (schema, statistics, checks, partition subset).

Parquet assets are `file://<host>` + the asset's folder (or `s3://<bucket>` + key when the
storage is an object store); DuckDB assets are `duckdb://<file>` + `<catalog>.main.<table>`;
any other storage falls back to the job namespace and the asset's name.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ...catalog.records import CheckResult
from ...definitions.asset import AssetDefinition

log = logging.getLogger("partita")


def dataset_name(
    definition: AssetDefinition, storage: Any, fallback_namespace: str
) -> tuple[str, str]:
    """(namespace, name) of the asset's dataset, following OpenLineage's naming rules."""
    kind = getattr(definition.storage, "kind", None)
    try:
        location = storage.location()
    except Exception:  # a storage that cannot say where it is: use the fallback name
        location = ""
    if location.startswith("s3://"):
        parts = urlsplit(location)
        return f"s3://{parts.netloc}", parts.path.lstrip("/") or definition.name
    if kind == "duckdb":
        path = Path(getattr(storage, "path", location))
        table = getattr(storage, "table", None) or definition.name
        return f"duckdb://{path}", f"{path.stem}.main.{table}"
    if kind == "parquet" and location:
        return f"file://{socket.gethostname()}", str(Path(location))
    return fallback_namespace, definition.name


def partition_dimensions(definition: AssetDefinition, partition: str | None) -> dict[str, str]:
    """The partition as dimensions: its hive column and key (empty when unpartitioned)."""
    if partition is None or definition.partitions is None:
        return {}
    column = getattr(definition.storage, "partition_column", None)
    return {column or definition.partitions.hive_key: partition}


def schema_fields(schema: Any) -> list[tuple[str, str]]:
    """(name, type) of each field of a pyarrow schema (none for None)."""
    if schema is None:
        return []
    return [(field.name, str(field.type)) for field in schema]


def published_schema(storage: Any, asset: str) -> Any:
    """The asset's published schema, or None when the storage cannot tell (logged)."""
    try:
        return storage.published_schema()
    except Exception as error:
        log.debug("no schema facet for %s: %s", asset, error)
        return None


def assertions(checks: tuple[CheckResult, ...]) -> list[dict[str, Any]]:
    """The attempt's checks as data-quality assertions (name, success, severity)."""
    return [
        {
            "assertion": check.name,
            "success": check.passed,
            "severity": check.severity,
            "description": check.message,
        }
        for check in checks
    ]
