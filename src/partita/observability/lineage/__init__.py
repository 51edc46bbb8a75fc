"""Lineage in the OpenLineage standard (the `openlineage-python` client, extra
`openlineage`), emitted by a run listener."""
