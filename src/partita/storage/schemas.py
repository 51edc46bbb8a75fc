"""Unifying the schemas of an asset's partitions into the schema the asset publishes."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa


def unify_schemas(schemas: Iterable[pa.Schema | None]) -> pa.Schema | None:
    """Every column of the given schemas, in order of appearance, each with its first
    non-null type: an all-null column in one partition says nothing about the type."""
    fields: dict[str, pa.Field] = {}
    for schema in schemas:
        if schema is None:
            continue
        for field in schema:
            known = fields.get(field.name)
            if known is None or (pa.types.is_null(known.type) and not pa.types.is_null(field.type)):
                fields[field.name] = field
    return pa.schema(list(fields.values())) if fields else None
