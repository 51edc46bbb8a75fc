"""Selection syntax: name, +name, name+, +name+, group:, tag:, unions, errors."""

from __future__ import annotations

import pytest

from partita import asset
from partita.errors import SelectionError
from partita.graph.graph import AssetGraph, build_graph
from partita.graph.selection import select


def node(name: str, deps=(), **options):
    return asset(name=name, deps=list(deps), **options)(lambda: None)


@pytest.fixture(scope="module")
def graph() -> AssetGraph:
    #   flights ─┬─> flights_weather ─> carrier_delays ─> scorecard
    #   weather ─┘                                     ┌> scorecard
    #   airlines ──────────────────────────────────────┘
    #   flights ─> rolling          planes (alone)
    return build_graph(
        [
            node("flights", group="raw", tags={"source": "nyc", "tier": "1"}),
            node("weather", group="raw", tags={"source": "nyc"}),
            node("airlines", group="dimensions", tags={"source": "faa"}),
            node("planes", group="dimensions"),
            node("flights_weather", ["flights", "weather"], group="metrics"),
            node("carrier_delays", ["flights_weather"], group="metrics"),
            node("rolling", ["flights"], group="metrics"),
            node("scorecard", ["carrier_delays", "airlines"], group="reports"),
        ]
    )


@pytest.mark.parametrize(
    ("selections", "expected"),
    [
        ([], None),
        (None, None),
        (["flights"], {"flights"}),
        (["  flights  "], {"flights"}),
        (["+carrier_delays"], {"carrier_delays", "flights_weather", "flights", "weather"}),
        (["flights_weather+"], {"flights_weather", "carrier_delays", "scorecard"}),
        (
            ["+flights_weather+"],
            {"flights", "weather", "flights_weather", "carrier_delays", "scorecard"},
        ),
        (["+flights"], {"flights"}),
        (["scorecard+"], {"scorecard"}),
        (["flights+"], {"flights", "flights_weather", "carrier_delays", "rolling", "scorecard"}),
        (["group:dimensions"], {"airlines", "planes"}),
        (["group:raw", "group:reports"], {"flights", "weather", "scorecard"}),
        (["tag:source=nyc"], {"flights", "weather"}),
        (["tag:source"], {"flights", "weather", "airlines"}),
        (["tag:tier=1"], {"flights"}),
        (["planes", "+rolling"], {"planes", "rolling", "flights"}),
        (["flights", "flights", "+flights"], {"flights"}),
    ],
)
def test_selection(graph: AssetGraph, selections, expected) -> None:
    chosen = select(graph, selections)
    if expected is None:
        expected = set(graph.assets)
    assert set(chosen) == expected
    assert len(chosen) == len(set(chosen))
    assert chosen == graph.sorted(chosen)  # topological order


def test_selection_result_is_in_topological_order(graph: AssetGraph) -> None:
    chosen = select(graph, ["scorecard", "+scorecard"])
    position = {name: i for i, name in enumerate(chosen)}
    for upstream, downstream in graph.edges():
        if upstream in position and downstream in position:
            assert position[upstream] < position[downstream]
    assert chosen[-1] == "scorecard"


@pytest.mark.parametrize(
    ("selection", "phrases"),
    [
        ("flightz", ["'flightz', which is not defined", "Did you mean 'flights'", "partita list"]),
        ("+flightz+", ["the selection '+flightz+'", "'flightz'", "Did you mean 'flights'"]),
        ("wether+", ["'wether'", "Did you mean 'weather'"]),
        ("group:metric", ["no asset is in group 'metric'", "Did you mean 'metrics'", "raw"]),
        ("tag:source=nys", ["no asset has the tag 'source=nys'", "'source=nyc'"]),
        ("tag:owner", ["no asset has the tag 'owner'", "The tags are: "]),
        ("+", ["names the asset ''"]),
    ],
)
def test_unknown_selection_is_an_error_with_suggestions(
    graph: AssetGraph, selection: str, phrases: list[str]
) -> None:
    with pytest.raises(SelectionError) as caught:
        select(graph, ["flights", selection])
    message = str(caught.value)
    for phrase in phrases:
        assert phrase in message, message
    assert caught.value.exit_code == 2


def test_an_unknown_tag_on_an_untagged_graph_says_none() -> None:
    graph = build_graph([node("a")])
    with pytest.raises(SelectionError, match="The tags are: none"):
        select(graph, ["tag:x=1"])
