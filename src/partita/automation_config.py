"""The automation settings of `[tool.partita]`: a default unit `timeout` and `pools`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from .definitions.asset import AssetDefinition
from .definitions.policies import parse_duration
from .errors import ProjectError

AUTOMATION_KEYS = ("timeout", "pools")


def automation_settings(
    settings: Mapping[str, Any], pyproject: Path
) -> tuple[timedelta | None, dict[str, int]]:
    """The default timeout and the pool sizes, checked (ProjectError naming the file)."""
    timeout = None
    if "timeout" in settings:
        try:
            timeout = parse_duration(settings["timeout"])
        except ValueError as error:
            raise ProjectError(f"{pyproject}: [tool.partita] timeout: {error}.") from None
        if timeout <= timedelta(0):
            raise ProjectError(f"{pyproject}: [tool.partita] timeout must be positive.")
    pools = settings.get("pools", {})
    if not isinstance(pools, dict) or not all(
        isinstance(name, str) and isinstance(size, int) and size >= 1
        for name, size in pools.items()
    ):
        raise ProjectError(
            f"{pyproject}: [tool.partita.pools] maps pool names to sizes of at least 1, "
            "e.g. warehouse_db = 2."
        )
    return timeout, dict(pools)


def apply_project_settings(definitions: list, config: Any) -> list:
    """The definitions with the project's default timeout where they set none; naming a
    pool the project does not declare is a problem of the definition."""
    from dataclasses import replace

    applied = []
    for definition in definitions:
        if not isinstance(definition, AssetDefinition):  # a resource
            applied.append(definition)
            continue
        if definition.pool is not None and definition.pool not in config.pools:
            declared = ", ".join(sorted(config.pools)) or "none"
            problem = (
                f"pool='{definition.pool}' is not declared in [tool.partita.pools] "
                f"(declared: {declared}); add it there, e.g. {definition.pool} = 2"
            )
            definition = replace(definition, problems=(*definition.problems, problem))
        if definition.timeout is None and config.timeout is not None:
            definition = replace(definition, timeout=config.timeout)
        applied.append(definition)
    return applied
