"""Schema drift: does a new partition's schema match the asset's published partitions?

Types are compared by family, so that the same data read back from a storage compares
equal (`string`/`large_string`, timestamp units and zones), and an all-null column (type `null`)
matches any type.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


def canonical_type(data_type: pa.DataType) -> str:
    """The type family a column is compared by."""
    if pa.types.is_dictionary(data_type):
        return canonical_type(data_type.value_type)
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return "string"
    if pa.types.is_binary(data_type) or pa.types.is_large_binary(data_type):
        return "binary"
    if pa.types.is_timestamp(data_type):
        # Zoned timestamps are instants: the zone they are shown in (UTC, Etc/UTC) is not
        # part of the schema; naive and zoned ones differ.
        return "timestamp[tz]" if data_type.tz else "timestamp"
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return f"list<{canonical_type(data_type.value_type)}>"
    return str(data_type)


@dataclass(frozen=True)
class SchemaDrift:
    """How an incoming schema differs from the published one."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]

    @property
    def only_additions(self) -> bool:
        return not self.removed and not self.changed

    def describe(self) -> str:
        parts = []
        if self.added:
            parts.append(f"new column(s) {', '.join(self.added)}")
        if self.removed:
            parts.append(f"missing column(s) {', '.join(self.removed)}")
        if self.changed:
            parts.append(f"changed type(s) {', '.join(self.changed)}")
        return "; ".join(parts)


def schema_drift(published: pa.Schema, incoming: pa.Schema) -> SchemaDrift | None:
    """None when the schemas match (by name and type family), else what differs."""
    old = {field.name: field.type for field in published}
    new = {field.name: field.type for field in incoming}
    changed = []
    for name in old.keys() & new.keys():
        if pa.types.is_null(old[name]) or pa.types.is_null(new[name]):
            continue
        if canonical_type(old[name]) != canonical_type(new[name]):
            changed.append(f"{name}: {canonical_type(old[name])} -> {canonical_type(new[name])}")
    drift = SchemaDrift(
        added=tuple(name for name in new if name not in old),
        removed=tuple(name for name in old if name not in new),
        changed=tuple(sorted(changed)),
    )
    return None if not (drift.added or drift.removed or drift.changed) else drift
