"""Lineage export: an indented text tree, Mermaid, Graphviz dot and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..definitions.partitions import MultiPartitions, Partitions
from .graph import AssetGraph

LINEAGE_FORMATS = ("text", "mermaid", "dot", "json")


def partitions_summary(partitions: Partitions | None, now: datetime) -> dict[str, Any] | None:
    """Kind, count and first/last key of the partitions that exist at `now`."""
    if partitions is None:
        return None
    count = partitions.count(now)
    summary = {
        "kind": partitions.kind,
        "count": count,
        "first": partitions.key(0) if count else None,
        "last": partitions.key(count - 1) if count else None,
        "timezone": getattr(partitions, "timezone", None),
    }
    if isinstance(partitions, MultiPartitions):
        summary["timezone"] = None if partitions.time is None else partitions.time.timezone
        summary["dimensions"] = [
            {"name": name, "kind": dimension.kind}
            for name, dimension in partitions.dimensions.items()
        ]
    return summary


def partitions_label(partitions: Partitions | None) -> str:
    """`daily`, or per dimension `date: daily x region: static`."""
    if partitions is None:
        return "unpartitioned"
    if isinstance(partitions, MultiPartitions):
        return " x ".join(f"{name}: {p.kind}" for name, p in partitions.dimensions.items())
    return partitions.kind


def asset_summary(graph: AssetGraph, name: str, now: datetime) -> dict[str, Any]:
    definition = graph[name]
    return {
        "name": name,
        "deps": list(graph.upstream(name)),
        "partitions": partitions_summary(definition.partitions, now),
        "storage": definition.storage.describe(),
        "group": definition.group,
        "tags": dict(definition.tags),
        "description": definition.description,
    }


def render_lineage(graph: AssetGraph, names: Sequence[str], fmt: str, now: datetime) -> str:
    """The lineage of the selected assets (edges between selected assets only)."""
    selected = set(names)
    edges = [(u, d) for u, d in graph.edges() if u in selected and d in selected]
    if fmt == "json":
        payload = {
            "assets": [
                {k: v for k, v in asset_summary(graph, n, now).items() if k != "description"}
                for n in names
            ],
            "edges": [list(edge) for edge in edges],
        }
        return json.dumps(payload, indent=2)
    if fmt == "mermaid":
        lines = ["graph LR"]
        # Prefixed ids: a bare asset named `end` or `graph` would be a Mermaid keyword.
        lines += [f'    a_{n}["{n}<br/>{_label(graph, n)}"]' for n in names]
        lines += [f"    a_{u} --> a_{d}" for u, d in edges]
        return "\n".join(lines)
    if fmt == "dot":
        lines = ["digraph partita {", "    rankdir=LR;", "    node [shape=box];"]
        lines += [f'    "{n}" [label="{n}\\n{_label(graph, n)}"];' for n in names]
        lines += [f'    "{u}" -> "{d}";' for u, d in edges]
        lines.append("}")
        return "\n".join(lines)
    return _text_tree(graph, names, edges)


def _label(graph: AssetGraph, name: str) -> str:
    definition = graph[name]
    return f"{partitions_label(definition.partitions)}, {definition.storage.kind}"


def _text_tree(graph: AssetGraph, names: Sequence[str], edges: list[tuple[str, str]]) -> str:
    """Roots first; each asset's readers indented below it. An asset reached again is
    shown with `(see above)` instead of repeating its subtree."""
    children: dict[str, list[str]] = {n: [] for n in names}
    has_parent = set()
    for upstream, downstream in edges:
        children[upstream].append(downstream)
        has_parent.add(downstream)
    lines: list[str] = []
    shown: set[str] = set()

    def walk(name: str, prefix: str, connector: str) -> None:
        repeated = name in shown
        suffix = " (see above)" if repeated and children[name] else ""
        lines.append(f"{prefix}{connector}{name}  [{_label(graph, name)}]{suffix}")
        if repeated:
            return
        shown.add(name)
        child_prefix = prefix + (
            "" if not connector else ("    " if connector == "└── " else "│   ")
        )
        for index, child in enumerate(children[name]):
            last = index == len(children[name]) - 1
            walk(child, child_prefix, "└── " if last else "├── ")

    for root in (n for n in names if n not in has_parent):
        walk(root, "", "")
    return "\n".join(lines)
