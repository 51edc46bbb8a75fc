"""Asset selection: `name`, `+name`, `name+`, `+name+`, `group:NAME`, `tag:KEY=VALUE`.

Several selections are a union; no selection means every asset.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import SelectionError
from .graph import AssetGraph, suggest


def select(graph: AssetGraph, selections: Sequence[str] | None) -> list[str]:
    """The selected asset names in topological order."""
    if not selections:
        return list(graph.order)
    chosen: set[str] = set()
    for selection in selections:
        chosen |= _select_one(graph, selection.strip())
    return graph.sorted(chosen)


def _select_one(graph: AssetGraph, selection: str) -> set[str]:
    if selection.startswith("group:"):
        group = selection.removeprefix("group:")
        found = {name for name, a in graph.assets.items() if a.group == group}
        if not found:
            groups = sorted({a.group for a in graph.assets.values()})
            raise SelectionError(
                f"no asset is in group '{group}'.{suggest(group, groups)} "
                f"The groups are: {', '.join(groups)}."
            )
        return found
    if selection.startswith("tag:"):
        return _select_tag(graph, selection.removeprefix("tag:"))
    upstream = selection.startswith("+")
    downstream = selection.endswith("+") and len(selection) > 1
    name = selection.removeprefix("+").removesuffix("+") if downstream else selection[upstream:]
    if name not in graph:
        raise SelectionError(
            f"the selection '{selection}' names the asset '{name}', which is not defined."
            f"{suggest(name, graph.assets)} Run 'partita list' to see every asset."
        )
    found = {name}
    if upstream:
        found |= graph.upstream_closure([name])
    if downstream:
        found |= graph.downstream_closure([name])
    return found


def _select_tag(graph: AssetGraph, expression: str) -> set[str]:
    key, has_value, value = expression.partition("=")
    found = {
        name
        for name, a in graph.assets.items()
        if key in a.tags and (not has_value or str(a.tags[key]) == value)
    }
    if not found:
        tags = sorted({f"{k}={v}" for a in graph.assets.values() for k, v in a.tags.items()})
        raise SelectionError(
            f"no asset has the tag '{expression}'.{suggest(expression, tags)} "
            f"The tags are: {', '.join(tags) or 'none'}."
        )
    return found
