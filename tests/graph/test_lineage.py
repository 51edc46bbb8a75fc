"""Lineage rendering: text tree, Mermaid, Graphviz dot and JSON."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from partita import DailyPartitions, DuckDB, MonthlyPartitions, StaticPartitions, asset
from partita.graph.graph import AssetGraph, build_graph
from partita.graph.lineage import LINEAGE_FORMATS, partitions_summary, render_lineage

NOW = datetime(2013, 1, 11, 12, tzinfo=UTC)
DAYS = DailyPartitions("2013-01-01", "2014-01-01")


def node(name: str, deps=(), **options):
    return asset(name=name, deps=list(deps), **options)(lambda: None)


@pytest.fixture(scope="module")
def graph() -> AssetGraph:
    return build_graph(
        [
            node("flights", partitions=DAYS, group="raw"),
            node("weather", partitions=DAYS, group="raw"),
            node("airlines", group="dimensions"),
            node("joined", ["flights", "weather"], partitions=DAYS),
            node("delays", ["joined"], partitions=DAYS, storage=DuckDB(table="delays")),
            node(
                "scorecard",
                ["delays", "airlines"],
                partitions=MonthlyPartitions("2013-01", "2014-01"),
                group="reports",
            ),
        ]
    )


def test_text_is_an_indented_tree(graph: AssetGraph) -> None:
    text = render_lineage(graph, list(graph.order), "text", NOW)
    assert text.splitlines() == [
        "airlines  [unpartitioned, parquet]",
        "└── scorecard  [monthly, parquet]",
        "flights  [daily, parquet]",
        "└── joined  [daily, parquet]",
        "    └── delays  [daily, duckdb]",
        "        └── scorecard  [monthly, parquet]",
        "weather  [daily, parquet]",
        "└── joined  [daily, parquet] (see above)",
    ]


def test_text_tree_with_siblings_uses_branch_connectors() -> None:
    graph = build_graph([node("root"), node("left", ["root"]), node("right", ["root"])])
    graph_with_grandchild = build_graph(
        [node("root"), node("left", ["root"]), node("right", ["root"]), node("leaf", ["left"])]
    )
    assert render_lineage(graph, list(graph.order), "text", NOW).splitlines() == [
        "root  [unpartitioned, parquet]",
        "├── left  [unpartitioned, parquet]",
        "└── right  [unpartitioned, parquet]",
    ]
    lines = render_lineage(
        graph_with_grandchild, list(graph_with_grandchild.order), "text", NOW
    ).splitlines()
    assert lines == [
        "root  [unpartitioned, parquet]",
        "├── left  [unpartitioned, parquet]",
        "│   └── leaf  [unpartitioned, parquet]",
        "└── right  [unpartitioned, parquet]",
    ]


def test_text_of_a_selection_keeps_only_its_edges(graph: AssetGraph) -> None:
    text = render_lineage(graph, ["joined", "delays"], "text", NOW)
    assert text.splitlines() == [
        "joined  [daily, parquet]",
        "└── delays  [daily, duckdb]",
    ]


def test_mermaid(graph: AssetGraph) -> None:
    text = render_lineage(graph, list(graph.order), "mermaid", NOW)
    lines = text.splitlines()
    assert lines[0] == "graph LR"
    arrows = {
        tuple(part.removeprefix("a_") for part in line.strip().split(" --> "))
        for line in lines
        if "-->" in line
    }
    assert arrows == set(graph.edges())
    for name in graph.order:
        assert any(line.strip().startswith(f'a_{name}["{name}') for line in lines), name
    assert 'a_delays["delays<br/>daily, duckdb"]' in text


def test_mermaid_ids_never_collide_with_keywords() -> None:
    from partita import asset

    @asset
    def end():
        return None

    @asset
    def graph(end):
        return None

    text = render_lineage(build_graph([end, graph]), ["end", "graph"], "mermaid", NOW)
    assert "    a_end --> a_graph" in text.splitlines()
    assert not any(line.strip().startswith("end") for line in text.splitlines())


def test_dot(graph: AssetGraph) -> None:
    text = render_lineage(graph, list(graph.order), "dot", NOW)
    assert text.startswith("digraph ")
    assert text.rstrip().endswith("}")
    arrows = set(re.findall(r'"(\w+)" -> "(\w+)";', text))
    assert arrows == set(graph.edges())
    for name in graph.order:
        assert f'"{name}" [label=' in text
    assert text.count("{") == text.count("}")


def test_json_shape(graph: AssetGraph) -> None:
    payload = json.loads(render_lineage(graph, list(graph.order), "json", NOW))
    assert set(payload) == {"assets", "edges"}
    assert [a["name"] for a in payload["assets"]] == list(graph.order)
    for entry in payload["assets"]:
        assert {"name", "deps", "partitions", "storage", "group"} <= set(entry)
        assert entry["deps"] == list(graph.upstream(entry["name"]))
    by_name = {a["name"]: a for a in payload["assets"]}
    assert by_name["airlines"]["partitions"] is None
    assert by_name["airlines"]["group"] == "dimensions"
    assert by_name["delays"]["storage"] == "duckdb:warehouse.duckdb"
    assert by_name["flights"]["storage"] == "parquet"
    assert by_name["flights"]["partitions"] == {
        "kind": "daily",
        "count": 10,
        "first": "2013-01-01",
        "last": "2013-01-10",
        "timezone": "UTC",
    }
    assert by_name["scorecard"]["partitions"]["count"] == 0
    assert sorted(map(tuple, payload["edges"])) == sorted(graph.edges())


def test_json_of_a_selection_drops_edges_leaving_it(graph: AssetGraph) -> None:
    payload = json.loads(render_lineage(graph, ["flights", "joined"], "json", NOW))
    assert [a["name"] for a in payload["assets"]] == ["flights", "joined"]
    assert payload["edges"] == [["flights", "joined"]]
    # deps still list every upstream, selected or not
    assert payload["assets"][1]["deps"] == ["flights", "weather"]


def test_every_format_is_rendered(graph: AssetGraph) -> None:
    assert LINEAGE_FORMATS == ("text", "mermaid", "dot", "json")
    outputs = {fmt: render_lineage(graph, list(graph.order), fmt, NOW) for fmt in LINEAGE_FORMATS}
    assert len(set(outputs.values())) == len(LINEAGE_FORMATS)
    for output in outputs.values():
        for name in graph.order:
            assert name in output


def test_partitions_summary() -> None:
    assert partitions_summary(None, NOW) is None
    regions = partitions_summary(StaticPartitions(["eu", "us", "asia"]), NOW)
    assert regions is not None
    assert (regions["kind"], regions["count"], regions["first"], regions["last"]) == (
        "static",
        3,
        "eu",
        "asia",
    )
    future = partitions_summary(DailyPartitions("2020-01-01"), NOW)
    assert future == {
        "kind": "daily",
        "count": 0,
        "first": None,
        "last": None,
        "timezone": "UTC",
    }
