"""The asset graph's layout in the browser: groups drawn as boxes around their nodes, and
columns ordered so that edges do not cross where an alphabetical order would cross them."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest

from .conftest import NOW
from .harness import UiServer, open_page, screenshot, start_server

# Alphabetical columns would put `a_src` and `b_src` over `c_reads_b` and `d_reads_a`: the
# two edges would cross. Two groups, each a box.
ASSETS = """
import pandas as pd

from partita import asset


@asset(group="sources")
def a_src() -> pd.DataFrame:
    return pd.DataFrame({"x": [1]})


@asset(group="sources")
def b_src() -> pd.DataFrame:
    return pd.DataFrame({"x": [2]})


@asset(group="marts")
def c_reads_b(b_src: pd.DataFrame) -> pd.DataFrame:
    return b_src


@asset(group="marts")
def d_reads_a(a_src: pd.DataFrame) -> pd.DataFrame:
    return a_src


@asset(group="marts")
def e_reads_both(c_reads_b: pd.DataFrame, d_reads_a: pd.DataFrame) -> pd.DataFrame:
    return c_reads_b
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    root = tmp_path_factory.mktemp("graph") / "proj"
    (root / "assets").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')
    (root / "assets" / "demo.py").write_text(textwrap.dedent(ASSETS).lstrip())
    running = start_server(root, "--now", NOW, log=root.parent / "server.log")
    try:
        yield running
    finally:
        running.stop()


BOXES = """() => {
    const boxes = {};
    for (const g of document.querySelectorAll("g.group")) {
        const r = g.querySelector("rect").getBoundingClientRect();
        boxes[g.dataset.group] = [r.left, r.top, r.right, r.bottom];
    }
    const nodes = {};
    for (const n of document.querySelectorAll("g.node")) {
        const r = n.querySelector("rect").getBoundingClientRect();
        nodes[n.dataset.asset] = {box: [r.left, r.top, r.right, r.bottom],
            column: Number(n.dataset.column), row: Number(n.dataset.row)};
    }
    return {boxes, nodes};
}"""


def inside(inner: list[float], outer: list[float]) -> bool:
    return (
        inner[0] >= outer[0]
        and inner[1] >= outer[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_groups_are_boxes_around_their_nodes_and_edges_do_not_cross(page) -> None:
    open_page(page, "/")
    drawn = page.evaluate(BOXES)
    boxes, nodes = drawn["boxes"], drawn["nodes"]
    assert sorted(boxes) == ["marts", "sources"]
    groups = {"sources": ["a_src", "b_src"], "marts": ["c_reads_b", "d_reads_a", "e_reads_both"]}
    for group, members in groups.items():
        for name in members:
            assert inside(nodes[name]["box"], boxes[group]), (name, group)
    assert not overlap(boxes["marts"], boxes["sources"])
    # No group name inside a node any more.
    assert "sources" not in page.locator('g[data-asset="a_src"]').text_content()

    columns = {name: node["column"] for name, node in nodes.items()}
    assert columns == {
        "a_src": 0,
        "b_src": 0,
        "c_reads_b": 1,
        "d_reads_a": 1,
        "e_reads_both": 2,
    }
    # Barycentre order: the reader of a_src (above b_src) comes before the reader of b_src.
    assert nodes["d_reads_a"]["row"] < nodes["c_reads_b"]["row"]
    assert page.locator("#graph svg").get_attribute("data-crossings") == "0"
    screenshot(page, "graph-groups")
