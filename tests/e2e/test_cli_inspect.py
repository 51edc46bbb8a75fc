"""The real `partita` command on temporary projects: list, lineage, errors, help, version."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from partita import __version__
from partita.cli.main import COMMANDS, cli

NOW = "2013-01-11T12:00:00+00:00"
EXAMPLE_PROJECT = Path(__file__).resolve().parents[2]

PIPELINE = """
from partita import AssetDep, DailyPartitions, DuckDB, MonthlyPartitions, asset

DAYS = DailyPartitions("2013-01-01", "2014-01-01", timezone="America/New_York")


@asset(partitions=DAYS, group="raw", tags={"source": "nyc"})
def flights(context):
    return None


@asset(partitions=DAYS, group="raw", tags={"source": "nyc"})
def weather(context):
    return None


@asset(group="dimensions")
def airlines():
    return None
"""

METRICS = """
from partita import AssetDep, DuckDB, MonthlyPartitions, asset

from ..sources import DAYS


@asset(partitions=DAYS, storage=DuckDB(table="joined"))
def flights_weather(flights, weather):
    return None


@asset(
    partitions=MonthlyPartitions("2013-01", "2014-01"),
    deps=[AssetDep("flights_weather")],
    group="reports",
)
def scorecard(airlines):
    return None
"""


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The CLI in any folder (the `project.cli` fixture always runs in the project root)."""
    return subprocess.run(
        [sys.executable, "-m", "partita", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=300,
    )


@pytest.fixture
def pipeline(project):
    project.write("assets/sources.py", PIPELINE)
    project.write("assets/metrics/daily.py", METRICS)
    return project


# list


def test_list_table(pipeline) -> None:
    result = pipeline.cli("list", "--now", NOW, check=0)
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "asset" in line)
    for column in ("asset", "partitions", "storage", "deps", "group"):
        assert column in header
    rows = {
        line.split()[0]: line for line in lines if line.split() and line.split()[0].isidentifier()
    }
    assert set(rows) >= {"flights", "weather", "airlines", "flights_weather", "scorecard"}
    assert "daily x10 2013-01-01 .. 2013-01-10" in rows["flights"]
    assert "raw" in rows["flights"]
    assert "duckdb:warehouse.duckdb" in rows["flights_weather"]
    assert "flights, weather" in rows["flights_weather"]
    assert "monthly (none yet)" in rows["scorecard"]
    assert "airlines, flights_weather" in rows["scorecard"]
    assert "reports" in rows["scorecard"]
    assert re.search(r"airlines\s.*-\s.*parquet\s.*-\s.*dimensions", rows["airlines"])
    assert result.stderr == ""


def test_list_json_and_selection(pipeline) -> None:
    everything = pipeline.cli("list", "--json", "--now", NOW, check=0).json()
    by_name = {a["name"]: a for a in everything["assets"]}
    assert list(by_name) == ["airlines", "flights", "weather", "flights_weather", "scorecard"]
    flights = by_name["flights"]
    assert flights["partitions"] == {
        "kind": "daily",
        "count": 10,
        "first": "2013-01-01",
        "last": "2013-01-10",
        "timezone": "America/New_York",
    }
    assert flights["storage"] == "parquet"
    assert flights["deps"] == []
    assert flights["group"] == "raw"
    assert by_name["flights_weather"]["deps"] == ["flights", "weather"]
    assert by_name["flights_weather"]["storage"] == "duckdb:warehouse.duckdb"
    assert by_name["scorecard"]["partitions"]["count"] == 0
    assert by_name["airlines"]["partitions"] is None

    later = pipeline.cli("list", "--json", "--now", "2013-03-01", "+scorecard", check=0).json()
    assert [a["name"] for a in later["assets"]] == [
        "airlines",
        "flights",
        "weather",
        "flights_weather",
        "scorecard",
    ]
    assert later["assets"][-1]["partitions"]["last"] == "2013-02"
    selected = pipeline.cli("list", "--json", "--now", NOW, "group:raw", "airlines", check=0)
    assert [a["name"] for a in selected.json()["assets"]] == ["airlines", "flights", "weather"]


# lineage


def test_lineage_in_every_format(pipeline) -> None:
    edges = {
        ("flights", "flights_weather"),
        ("weather", "flights_weather"),
        ("airlines", "scorecard"),
        ("flights_weather", "scorecard"),
    }
    text = pipeline.cli("lineage", "--now", NOW, check=0).stdout
    assert text.splitlines()[:2] == [
        "airlines  [unpartitioned, parquet]",
        "└── scorecard  [monthly, parquet]",
    ]
    assert "flights  [daily, parquet]\n└── flights_weather  [daily, duckdb]\n" in text
    assert "└── flights_weather  [daily, duckdb] (see above)" in text

    mermaid = pipeline.cli("lineage", "--format", "mermaid", check=0).stdout
    assert mermaid.startswith("graph LR\n")
    assert {tuple(m) for m in re.findall(r"a_(\w+) --> a_(\w+)", mermaid)} == edges

    dot = pipeline.cli("lineage", "--format", "dot", check=0).stdout
    assert dot.startswith("digraph ")
    assert {tuple(m) for m in re.findall(r'"(\w+)" -> "(\w+)";', dot)} == edges

    payload = pipeline.cli("lineage", "--format", "json", "--now", NOW, check=0).json()
    assert {tuple(edge) for edge in payload["edges"]} == edges
    assert all(len(edge) == 2 for edge in payload["edges"])
    for entry in payload["assets"]:
        assert {"name", "deps", "partitions", "storage", "group"} <= set(entry)
    assert payload["assets"][1]["name"] == "flights"
    assert payload["assets"][1]["partitions"]["count"] == 10

    selected = pipeline.cli("lineage", "--format", "json", "flights_weather+", check=0).json()
    assert [a["name"] for a in selected["assets"]] == ["flights_weather", "scorecard"]
    assert selected["edges"] == [["flights_weather", "scorecard"]]

    bad = pipeline.cli("lineage", "--format", "svg")
    assert bad.exit_code == 2
    assert "'svg' is not one of 'text', 'mermaid', 'dot', 'json'" in bad.stderr


def test_project_option_and_discovery_from_a_subfolder(pipeline, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    by_option = run(elsewhere, "--project", str(pipeline.root), "list", "--json", "--now", NOW)
    assert by_option.returncode == 0, by_option.stderr
    names = [a["name"] for a in json.loads(by_option.stdout)["assets"]]
    assert names == ["airlines", "flights", "weather", "flights_weather", "scorecard"]

    relative = run(tmp_path, "--project", "proj", "lineage", "--format", "json", "scorecard")
    assert relative.returncode == 0, relative.stderr
    assert [a["name"] for a in json.loads(relative.stdout)["assets"]] == ["scorecard"]

    from_subfolder = run(pipeline.root / "assets" / "metrics", "list", "--json", "--now", NOW)
    assert from_subfolder.returncode == 0, from_subfolder.stderr
    assert json.loads(from_subfolder.stdout) == json.loads(by_option.stdout)

    not_a_project = run(elsewhere, "--project", str(elsewhere), "list")
    assert not_a_project.returncode == 2
    assert "has no pyproject.toml" in not_a_project.stderr
    assert "Traceback" not in not_a_project.stderr


# Definition errors


BROKEN = """
from partita import AssetDep, DailyPartitions, StaticPartitions, asset

DAYS = DailyPartitions("2013-01-01", "2014-01-01")


@asset
def loop_a(loop_c):
    pass


@asset
def loop_b(loop_a):
    pass


@asset
def loop_c(loop_b):
    pass


@asset
def flights():
    pass


@asset(deps=["flihgts"])
def typo():
    pass


@asset(name="bad-name")
def invalid():
    pass


@asset(partitions=DAYS, deps=[AssetDep("flights", offset=(-6, 0))])
def rolling():
    pass


@asset(partitions=StaticPartitions(["eu", "us"]))
def regions():
    pass


@asset(partitions=StaticPartitions(["eu", "asia"]))
def by_region(regions):
    pass


@asset(colour="red")
def painted(wether):
    pass
"""


def _line_of(source: str, text: str) -> int:
    lines = source.strip("\n").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def _paragraphs(stderr: str) -> list[str]:
    return [p.strip() for p in stderr.removeprefix("error: ").split("\n\n") if p.strip()]


def test_every_definition_error_at_once(project) -> None:
    project.write("assets/broken.py", BROKEN)
    project.write(
        "assets/more/dup.py", "from partita import asset\n\n\n@asset\ndef flights():\n    pass\n"
    )
    result = project.cli("list")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    paragraphs = _paragraphs(result.stderr)

    def find(phrase: str) -> str:
        (found,) = [p for p in paragraphs if phrase in p]
        return found

    def at(name: str, line_text: str) -> str:
        return f"asset '{name}' (assets/broken.py:{_line_of(BROKEN, line_text)})"

    cycle = find("dependency cycle")
    loop_a_line = _line_of(BROKEN, "def loop_a") - 1  # the decorator line
    assert cycle.startswith(f"asset 'loop_a' (assets/broken.py:{loop_a_line})")
    assert "loop_a -> loop_b -> loop_c -> loop_a" in cycle

    unknown = find("depends on 'flihgts'")
    assert unknown.startswith(at("typo", '@asset(deps=["flihgts"])'))
    assert "Did you mean 'flights'?" in unknown

    duplicate = find("defined twice")
    assert "asset 'flights'" in duplicate
    assert f"assets/broken.py:{_line_of(BROKEN, 'def flights') - 1}" in duplicate
    assert "assets/more/dup.py:4" in duplicate

    name = find("not a valid Python identifier")
    assert name.startswith(at("bad-name", '@asset(name="bad-name")'))

    offset = find("cannot read 'flights'")
    assert offset.startswith(at("rolling", "offset=(-6, 0)"))
    assert "unpartitioned" in offset

    static = find("cannot read 'regions'")
    assert static.startswith(at("by_region", '["eu", "asia"]'))
    assert "'asia'" in static

    keyword = find("unknown keyword(s) colour")
    assert keyword.startswith(at("painted", '@asset(colour="red")'))

    parameter = find("takes a parameter 'wether'")
    assert parameter.startswith(at("painted", '@asset(colour="red")'))

    assert len(paragraphs) == 8

    debug = project.cli("--debug", "list")
    assert debug.exit_code == 2
    assert "Traceback (most recent call last)" in debug.stderr
    assert "dependency cycle" in debug.stderr


def test_load_time_errors_name_file_and_line(project) -> None:
    project.write(
        "assets/bounds.py",
        """
        from partita import DailyPartitions, asset


        @asset(partitions=DailyPartitions("2013-01-05", end="2013-01-01"))
        def backwards():
            pass
        """,
    )
    project.write("assets/imports.py", "import os\n\nimport no_such_module_for_partita\n")
    result = project.cli("lineage")
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    paragraphs = _paragraphs(result.stderr)
    assert len(paragraphs) == 2
    bounds, imports = paragraphs
    assert bounds.startswith("asset 'backwards' (assets/bounds.py:4): invalid partition bounds")
    assert "end is exclusive" in bounds
    assert imports.startswith("could not import the asset module assets/imports.py:3")
    assert "No module named 'no_such_module_for_partita'" in imports

    debug = project.cli("--debug", "lineage")
    assert debug.exit_code == 2
    assert "Traceback (most recent call last)" in debug.stderr
    # the traceback reaches into the failing asset modules, not only partita's own frames
    assert re.search(r'File ".*assets/imports\.py", line 3', debug.stderr)
    assert re.search(r'File ".*assets/bounds\.py", line 4', debug.stderr)
    assert "ModuleNotFoundError: No module named 'no_such_module_for_partita'" in debug.stderr


def test_unknown_selection_suggests_close_names(pipeline) -> None:
    result = pipeline.cli("list", "flihgts+")
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert "'flihgts', which is not defined" in result.stderr
    assert "Did you mean 'flights'" in result.stderr

    group = pipeline.cli("lineage", "group:repotrs")
    assert group.exit_code == 2
    assert "Did you mean 'reports'" in group.stderr


def test_project_configuration_errors(project) -> None:
    (project.root / "pyproject.toml").write_text('[tool.partita]\nassets = "nowhere"\nother = 1\n')
    result = project.cli("list")
    assert result.exit_code == 2
    assert "unknown key(s) other" in result.stderr
    assert "Traceback" not in result.stderr


# Help and version


def test_help_and_version(project) -> None:
    group = project.cli("--help", check=0).stdout
    for option in ("--project", "--debug", "--version", "--help"):
        assert option in group
    for syntax in ("+NAME", "NAME+", "+NAME+", "group:NAME", "tag:KEY=VALUE"):
        assert syntax in group
    for command in ("list", "lineage"):
        assert re.search(rf"^\s+{command}\s+\S", group, re.MULTILINE), command

    list_help = project.cli("list", "--help", check=0).stdout
    for text in ("--json", "--now", "SELECTION", "partitions", "storage", "deps", "group"):
        assert text in list_help
    lineage_help = project.cli("lineage", "--help", check=0).stdout
    for text in ("--format", "text", "mermaid", "dot", "json", "--now", "SELECTION"):
        assert text in lineage_help

    version = project.cli("--version", check=0)
    assert version.stdout.strip() == f"partita {__version__}"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_of_every_command_is_explained(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    definition = cli.get_command(None, command)
    assert definition.help, command
    for parameter in definition.params:
        if parameter.param_type_name == "option":
            assert parameter.help, (command, parameter.name)
            for flag in parameter.opts:
                assert flag in result.output, (command, flag)


def test_every_global_option_is_explained() -> None:
    for parameter in cli.params:
        if parameter.param_type_name == "option":
            assert parameter.help, parameter.name


# The example project


def test_example_project_lineage(tmp_path: Path) -> None:
    result = run(tmp_path, "--project", str(EXAMPLE_PROJECT), "lineage", "--format", "mermaid")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("graph LR")
    for edge in (
        "a_flights --> a_flights_weather",
        "a_carrier_delays --> a_carrier_scorecard",
        "a_flights --> a_on_time_rolling",
    ):
        assert edge in result.stdout
