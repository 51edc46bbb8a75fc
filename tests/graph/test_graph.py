"""`build_graph`: lineage inference, validation messages, order and cycles."""

from __future__ import annotations

import itertools
import keyword
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partita import (
    AssetDep,
    DailyPartitions,
    Identity,
    LastPartition,
    MonthlyPartitions,
    StaticKeys,
    StaticPartitions,
    TimeWindow,
    asset,
)
from partita.definitions.asset import AssetDefinition
from partita.errors import DefinitionError, DefinitionErrors
from partita.graph.graph import build_graph, suggest

HERE = Path(__file__).name


def node(name: str, deps=(), **options) -> AssetDefinition:
    """An asset with no parameters and explicit deps."""
    return asset(name=name, deps=list(deps), **options)(lambda: None)


def errors_of(definitions, root: str | None = None) -> list[str]:
    with pytest.raises(DefinitionErrors) as caught:
        build_graph(definitions, root=root)
    assert str(caught.value) == "\n\n".join(str(e) for e in caught.value.errors)
    assert isinstance(caught.value, DefinitionError)
    return [str(error) for error in caught.value.errors]


# Inference


def test_parameters_named_after_assets_are_dependencies() -> None:
    @asset
    def flights():
        pass

    @asset
    def weather():
        pass

    @asset
    def flights_weather(flights, weather, context):
        pass

    graph = build_graph([flights_weather, weather, flights])
    assert graph.upstream("flights_weather") == ("flights", "weather")
    assert {d.parameter for d in graph.dependencies["flights_weather"]} == {"flights", "weather"}
    assert graph.downstream["flights"] == ("flights_weather",)
    assert graph.order == ("flights", "weather", "flights_weather")
    assert graph.edges() == [("flights", "flights_weather"), ("weather", "flights_weather")]
    assert "flights" in graph
    assert "nothing" not in graph
    assert graph["flights"] is flights


def test_dependencies_are_the_union_of_deps_and_parameters() -> None:
    @asset
    def a():
        pass

    @asset
    def b():
        pass

    @asset
    def c():
        pass

    @asset(deps=["a", b])
    def d(b, c):
        pass

    graph = build_graph([a, b, c, d])
    assert graph.upstream("d") == ("a", "b", "c")
    by_name = {dep.upstream: dep for dep in graph.dependencies["d"]}
    assert by_name["a"].parameter is None  # ordering only, no data passed
    assert by_name["b"].parameter == "b"
    assert by_name["c"].parameter == "c"


def test_an_asset_dep_offset_applies_to_the_parameter_of_the_same_name() -> None:
    days = DailyPartitions("2013-01-01", "2014-01-01")

    @asset(partitions=days)
    def flights():
        pass

    @asset(partitions=days, deps=[AssetDep("flights", offset=(-6, 0))])
    def rolling(flights, context):
        pass

    graph = build_graph([flights, rolling])
    (dependency,) = graph.dependencies["rolling"]
    assert (dependency.upstream, dependency.offset, dependency.parameter) == (
        "flights",
        (-6, 0),
        "flights",
    )


def test_parameters_with_defaults_are_ignored_unless_named_after_an_asset() -> None:
    @asset
    def raw():
        pass

    @asset
    def tuned(raw=None, limit=10, *args, **kwargs):
        pass

    graph = build_graph([raw, tuned])
    assert graph.upstream("tuned") == ("raw",)


def test_context_is_not_a_dependency() -> None:
    @asset
    def only_context(context):
        pass

    graph = build_graph([only_context])
    assert graph.upstream("only_context") == ()


def test_closures_and_sorted() -> None:
    graph = build_graph(
        [
            node("a"),
            node("b", ["a"]),
            node("c", ["b"]),
            node("d", ["a"]),
            node("e"),
        ]
    )
    assert graph.upstream_closure(["c"]) == {"a", "b", "c"}
    assert graph.downstream_closure(["a"]) == {"a", "b", "c", "d"}
    assert graph.downstream_closure(["e"]) == {"e"}
    assert graph.sorted(["d", "c", "a"]) == ["a", "c", "d"]
    assert graph.downstream["a"] == ("b", "d")


def test_empty_graph() -> None:
    graph = build_graph([])
    assert graph.order == ()
    assert graph.edges() == []


# Definition errors


def test_unknown_parameter_suggests_the_closest_asset() -> None:
    @asset
    def weather():
        pass

    @asset
    def report(wether):
        pass

    (message,) = errors_of([weather, report])
    assert "asset 'report'" in message
    assert f"{HERE}:{report.line}" in message
    assert "takes a parameter 'wether'" in message
    assert "Did you mean 'weather'?" in message
    assert "give it a default value" in message


def test_unknown_dependency_suggests_the_closest_names() -> None:
    assets = [node("flights"), node("flights_daily"), node("report", ["flightz"])]
    (message,) = errors_of(assets)
    assert "asset 'report'" in message
    assert "depends on 'flightz', which is not defined" in message
    assert "Did you mean 'flights'" in message
    assert "fix the name in deps=" in message


def test_unknown_dependency_without_a_close_name_has_no_suggestion() -> None:
    (message,) = errors_of([node("a"), node("b", ["zzzzzz"])])
    assert "'zzzzzz'" in message
    assert "Did you mean" not in message


def test_duplicate_names_report_both_locations() -> None:
    first = node("twin")
    second = node("twin")

    @asset(name="twin")
    def third():
        pass

    messages = errors_of([first, second, third])
    assert len(messages) == 2
    assert "asset 'twin' is defined twice" in messages[0]
    assert messages[0].count(f"{HERE}:") == 2
    assert f"{HERE}:{third.line}" in messages[1]
    assert "Rename one of them" in messages[0]


def test_duplicate_location_is_relative_to_the_root() -> None:
    messages = errors_of([node("twin"), node("twin")], root=str(Path(__file__).parent.parent))
    assert f"graph/{HERE}:" in messages[0]
    assert str(Path(__file__).parent) not in messages[0]


def test_invalid_name_and_unknown_keyword_are_reported_by_the_graph() -> None:
    @asset(name="bad-name", colour="red")
    def anything():
        pass

    messages = errors_of([anything])
    assert len(messages) == 2
    assert all(m.startswith("asset 'bad-name' (") for m in messages)
    assert all(f"{HERE}:{anything.line}):" in m for m in messages)
    assert any("unknown keyword(s) colour" in m for m in messages)
    assert any("not a valid Python identifier" in m for m in messages)


def test_cycle_prints_its_path() -> None:
    @asset
    def a(c):
        pass

    @asset
    def b(a):
        pass

    @asset
    def c(b):
        pass

    (message,) = errors_of([a, b, c])
    assert "dependency cycle: a -> b -> c -> a" in message
    assert message.startswith("asset 'a' (")
    assert f"{HERE}:{a.line}) is part of" in message
    assert "remove one of these dependencies" in message


def test_self_dependency_is_a_cycle() -> None:
    @asset
    def itself(itself):
        pass

    (message,) = errors_of([itself])
    assert "dependency cycle: itself -> itself" in message


def test_cycle_with_an_acyclic_prefix() -> None:
    assets = [node("root"), node("x", ["root", "z"]), node("y", ["x"]), node("z", ["y"])]
    (message,) = errors_of(assets)
    assert "x -> y -> z -> x" in message
    assert "root" not in message.split("cycle:")[1]


def test_offset_on_an_unpartitioned_asset_cannot_be_satisfied() -> None:
    days = DailyPartitions("2013-01-01", "2014-01-01")
    assets = [node("raw"), node("rolling", [AssetDep("raw", offset=(-6, 0))], partitions=days)]
    (message,) = errors_of(assets)
    assert "asset 'rolling'" in message
    assert "cannot read 'raw'" in message
    assert "offset needs time partitions on both sides" in message
    assert "upstream asset is unpartitioned" in message


def test_a_mapping_must_be_a_partition_mapping_and_not_beside_an_offset() -> None:
    days = DailyPartitions("2013-01-01", "2014-01-01")
    assets = [
        node("raw", partitions=days),
        node("odd", [AssetDep("raw", mapping="last")], partitions=days),  # type: ignore[arg-type]
        node("both", [AssetDep("raw", offset=(-1, 0), mapping=LastPartition())], partitions=days),
    ]
    odd, both = errors_of(assets)
    assert "asset 'odd'" in odd and "mapping='last' is not a partition mapping" in odd
    assert "asset 'both'" in both and "write the offset in the mapping" in both


def test_a_declared_mapping_is_validated_and_changes_the_deps_version() -> None:
    days = DailyPartitions("2013-01-01", "2014-01-01")
    raw = node("raw", partitions=days)
    (message,) = errors_of([raw, node("by_key", [AssetDep("raw", mapping=StaticKeys())])])
    assert "cannot read 'raw'" in message and "StaticKeys() needs static partitions" in message

    def deps_version(dep: AssetDep) -> str:
        return build_graph([raw, node("reader", [dep], partitions=days)]).deps_version("reader")

    plain = deps_version(AssetDep("raw"))
    assert deps_version(AssetDep("raw", mapping=Identity())) == plain  # the default
    assert deps_version(AssetDep("raw", mapping=LastPartition())) != plain
    rolling = deps_version(AssetDep("raw", offset=(-6, 0)))
    assert deps_version(AssetDep("raw", mapping=TimeWindow(offset=(-6, 0)))) == rolling
    assert rolling != plain


def test_mismatched_static_keys_cannot_be_satisfied() -> None:
    assets = [
        node("regions", partitions=StaticPartitions(["eu", "us"])),
        node("report", ["regions"], partitions=StaticPartitions(["eu", "asia"])),
    ]
    (message,) = errors_of(assets)
    assert "asset 'report'" in message
    assert "cannot read 'regions'" in message
    assert "'asia'" in message
    assert "every downstream key must also be an upstream key" in message


def test_static_and_time_partitions_cannot_be_mapped() -> None:
    assets = [
        node("regions", partitions=StaticPartitions(["eu", "us"])),
        node("monthly", ["regions"], partitions=MonthlyPartitions("2013-01")),
    ]
    (message,) = errors_of(assets)
    assert "static keys have no time interval" in message


def test_every_problem_is_reported_at_once() -> None:
    @asset(name="bad-name")
    def bad():
        pass

    @asset
    def uses_unknown(wether):
        pass

    @asset
    def loop_a(loop_b):
        pass

    @asset
    def loop_b(loop_a):
        pass

    messages = errors_of(
        [
            bad,
            uses_unknown,
            node("twin"),
            node("twin"),
            node("missing_dep", ["nowhere"]),
            node("regions", partitions=StaticPartitions(["eu"])),
            node("by_region", ["regions"], partitions=StaticPartitions(["us"])),
            loop_a,
            loop_b,
        ]
    )
    expected = [
        "not a valid Python identifier",
        "is defined twice",
        "depends on 'nowhere'",
        "takes a parameter 'wether'",
        "cannot read 'regions'",
        "dependency cycle: loop_a -> loop_b -> loop_a",
    ]
    assert len(messages) == len(expected)
    for phrase in expected:
        assert sum(phrase in m for m in messages) == 1, phrase


def test_suggest() -> None:
    assert suggest("flightz", ["flights", "weather"]) == " Did you mean 'flights'?"
    assert suggest("qqq", ["flights"]) == ""
    assert "' or '" in suggest("abcd", ["abce", "abcf"])


# Properties


@st.composite
def dags(draw):
    size = draw(st.integers(1, 12))
    names = draw(
        st.lists(
            st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
                lambda name: not keyword.iskeyword(name)
            ),
            min_size=size,
            max_size=size,
            unique=True,
        )
    )
    # edges only from an earlier name to a later one in this random order: acyclic
    edges = {
        (names[i], names[j]) for i in range(size) for j in range(i + 1, size) if draw(st.booleans())
    }
    return names, edges


def _definitions(names, edges):
    upstream = {name: sorted(u for u, d in edges if d == name) for name in names}
    return [node(name, upstream[name]) for name in reversed(names)]


@settings(max_examples=60, deadline=None)
@given(dags())
def test_topological_order_respects_every_edge(dag) -> None:
    names, edges = dag
    graph = build_graph(_definitions(names, edges))
    assert sorted(graph.order) == sorted(names)
    position = {name: index for index, name in enumerate(graph.order)}
    for upstream, downstream in edges:
        assert position[upstream] < position[downstream]
    assert set(graph.edges()) == edges
    for name in names:
        closure = graph.upstream_closure([name])
        assert all(position[n] <= position[name] for n in closure)
    # stable: the input order does not matter
    assert build_graph(list(reversed(_definitions(names, edges)))).order == graph.order


@settings(max_examples=60, deadline=None)
@given(dags(), st.data())
def test_a_reported_cycle_is_a_real_cycle(dag, data) -> None:
    names, edges = dag
    # close a cycle: pick some names and chain them back to the first
    members = data.draw(
        st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True)
    )
    ring = {(members[i], members[(i + 1) % len(members)]) for i in range(len(members))}
    all_edges = edges | ring
    (message,) = errors_of(_definitions(names, all_edges))
    found = re.search(r"dependency cycle: (.+?)\. ", message)
    assert found is not None, message
    path = found.group(1).split(" -> ")
    assert len(path) >= 2
    assert path[0] == path[-1]
    assert len(set(path[:-1])) == len(path) - 1  # a simple cycle
    for upstream, downstream in itertools.pairwise(path):
        assert (upstream, downstream) in all_edges, (path, all_edges)
    assert message.startswith(f"asset '{path[0]}'")
