"""Observing an observable source: its function returns a data version, nothing is stored.

The observation is recorded as the unit's materialization with that data version, so
planning compares it like any other upstream: a changed version makes the downstream
partitions reading it stale (`upstream changed: SOURCE KEY`), an unchanged one keeps
them up to date.
"""

from __future__ import annotations

from ..definitions.asset import AssetDefinition
from ..definitions.context import AssetContext
from ..definitions.sources import observed_version
from ..storage.base import WriteResult


def observe(definition: AssetDefinition, context: AssetContext) -> WriteResult:
    """Call the source's function and make its answer a data version."""
    value = definition.fn(context) if definition.wants_context else definition.fn()
    return WriteResult(rows=0, bytes=0, data_version=observed_version(definition.name, value))
