"""Reading an asset back reads only the partitions the catalog records as materialized."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from partita.cli.main import cli
from partita.errors import PartitionError, StorageError

from . import DAYS, NOW

EVENTS = """
import pandas as pd
from partita import DailyPartitions, asset


@asset(partitions=DailyPartitions(start="2024-01-01"))
def events(context):
    return pd.DataFrame({"day": [context.partition_key] * 2, "n": [1, 2]})
"""


@pytest.fixture
def with_strays(project):
    """Three days materialized, then folders the catalog knows nothing of: a copy of a
    partition under `date=junk`, and one under a valid key that was never materialized."""
    project.write("assets/events.py", EVENTS)
    project.load().materialize(now=NOW)
    root = project.warehouse / "events"
    shutil.copytree(root / "date=2024-01-01", root / "date=junk")
    shutil.copytree(root / "date=2024-01-01", root / "date=2024-01-05")
    return project


def test_a_whole_asset_read_skips_folders_the_catalog_does_not_know(with_strays) -> None:
    frame = with_strays.load().read("events")
    assert frame["day"].tolist() == [day for day in DAYS for _ in range(2)]


def test_a_range_read_skips_partitions_the_catalog_does_not_know(with_strays) -> None:
    frame = with_strays.load().read("events", ("2024-01-03", "2024-01-06"))
    assert frame["day"].unique().tolist() == ["2024-01-03"]


def test_a_single_partition_never_materialized_is_an_error_even_with_a_file(with_strays) -> None:
    with pytest.raises(PartitionError, match="partition 2024-01-05 has not been materialized"):
        with_strays.load().read("events", "2024-01-05")


def test_show_prints_only_materialized_partitions(with_strays) -> None:
    result = CliRunner().invoke(
        cli, ["--project", str(with_strays.root), "show", "events", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert "junk" not in result.stdout and "2024-01-05" not in result.stdout
    assert result.stdout.count('"day"') == 6


def test_an_asset_with_nothing_materialized_says_what_to_do(project) -> None:
    project.write("assets/events.py", EVENTS)
    with pytest.raises(StorageError, match="partita materialize events"):
        project.load().read("events")
