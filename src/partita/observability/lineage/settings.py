"""`[tool.partita.openlineage]`: validated when the project's configuration is loaded.

```toml
[tool.partita.openlineage]
namespace = "partita://shop"   # the job namespace; default partita://<project name>
transport = { type = "http", url = "http://localhost:5000" }   # as the client takes it
disabled = false
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...errors import ProjectError

KEYS = ("namespace", "transport", "disabled")


@dataclass(frozen=True)
class OpenLineageSettings:
    """Where and how to emit; `transport` None lets the client read its own configuration
    (`OPENLINEAGE_URL`, `OPENLINEAGE_CONFIG`, openlineage.yml)."""

    namespace: str | None = None
    transport: Mapping[str, Any] | None = None
    disabled: bool = False


def parse_openlineage_settings(table: Any, where: str) -> OpenLineageSettings:
    """The `[tool.partita.openlineage]` table of the file `where`, validated."""
    label = f"{where}: [tool.partita.openlineage]"
    if not isinstance(table, Mapping):
        raise ProjectError(f"{label} must be a table.")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ProjectError(
            f"{label} has unknown key(s) {', '.join(unknown)}; the keys are {', '.join(KEYS)}."
        )
    namespace = table.get("namespace")
    if namespace is not None and (not isinstance(namespace, str) or not namespace):
        raise ProjectError(f"{label}: namespace must be a non-empty text.")
    transport = table.get("transport")
    if transport is not None and (not isinstance(transport, Mapping) or "type" not in transport):
        raise ProjectError(
            f"{label}: transport must be a table with a type, e.g. "
            '{ type = "http", url = "http://localhost:5000" }, { type = "file", '
            'log_file_path = "lineage.jsonl" } or { type = "console" }.'
        )
    disabled = table.get("disabled", False)
    if not isinstance(disabled, bool):
        raise ProjectError(f"{label}: disabled must be true or false.")
    return OpenLineageSettings(namespace, transport, disabled)
