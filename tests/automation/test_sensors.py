"""Sensors: cursors kept in the catalog, a raising sensor recorded and retried, FileSensor."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from partita import FileSensor, SensorContext, SensorRequest, SensorResult, sensor
from partita.catalog import open_catalog

SENSING = """
from pathlib import Path

import pandas as pd
from partita import DailyPartitions, SensorRequest, SensorResult, asset, sensor

HERE = Path(__file__).parent


@asset(partitions=DailyPartitions(start="2024-01-01"))
def history(context) -> pd.DataFrame:
    return pd.DataFrame({"day": [context.partition_key]})


@sensor(every="1m")
def watch(context):
    if (HERE / "fail").exists():
        raise RuntimeError("the API is down")
    seen = int(context.cursor or 0)
    days = (HERE / "days.txt").read_text().split()
    return SensorResult(
        requests=[SensorRequest("history", days[seen:])], cursor=str(len(days))
    )
"""


def ticks(project) -> list[dict]:
    return project.cli("ticks", "--json", check=0).json()["ticks"][::-1]


def test_a_sensor_that_raises_is_recorded_and_retried_at_its_next_tick(project):
    project.write("assets/sensing.py", SENSING)
    assets = project.root / "assets"
    (assets / "fail").write_text("")
    (assets / "days.txt").write_text("2024-01-01 2024-01-02")

    project.cli("daemon", "--once", "--now", "2024-01-05T00:00:00", check=0)
    (assets / "fail").unlink()
    project.cli("daemon", "--once", "--now", "2024-01-05T00:00:30", check=0)
    project.cli("daemon", "--once", "--now", "2024-01-05T00:00:40", check=0)  # not due
    (assets / "days.txt").write_text("2024-01-01 2024-01-02 2024-01-03")
    project.cli("daemon", "--once", "--now", "2024-01-05T00:01:30", check=0)

    failed, retried, idle, later = ticks(project)
    assert failed["error"] == "sensor 'watch' failed: RuntimeError: the API is down"
    assert failed["requested"] == [] and failed["evaluated"] == ["sensor:watch"]
    assert [(u["partition"], u["why"]) for u in retried["requested"]] == [
        ("2024-01-01", "sensor watch"),
        ("2024-01-02", "sensor watch"),
    ]
    assert idle["evaluated"] == [] and idle["requested"] == []
    assert [u["partition"] for u in later["requested"]] == ["2024-01-03"]
    with open_catalog(project.warehouse) as catalog:
        assert json.loads(catalog.cursor("sensor:watch"))["cursor"] == "3"
        done = sorted(r.partition for r in catalog.history("history"))
    assert done == ["2024-01-01", "2024-01-02", "2024-01-03"]


def context(root: Path, cursor: str | None) -> SensorContext:
    now = datetime(2024, 1, 5, tzinfo=UTC)
    return SensorContext("files", cursor, now, root, logging.getLogger("test"))


class Landing:
    """Stands for a dynamic partition set (only its name is used)."""

    name = "landing_files"


def test_file_sensor_adds_one_key_per_new_file_and_remembers_what_it_saw(tmp_path):
    files = FileSensor("landing/*.csv", partitions=Landing(), every="30s")
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "2024-01-01.csv").write_text("a")
    (tmp_path / "landing" / "notes.txt").write_text("not matched")

    first = files.evaluate(context(tmp_path, None))
    (tmp_path / "landing" / "2024-01-02.csv").write_text("b")
    second = files.evaluate(context(tmp_path, first.cursor))
    third = files.evaluate(context(tmp_path, second.cursor))

    assert first.new_keys == {"landing_files": ("2024-01-01",)}
    assert first.requests == (SensorRequest((), ["2024-01-01"], dynamic="landing_files"),)
    assert second.new_keys == {"landing_files": ("2024-01-02",)}
    assert json.loads(second.cursor) == ["landing/2024-01-01.csv", "landing/2024-01-02.csv"]
    assert third == SensorResult(cursor=second.cursor)
    assert files.every.total_seconds() == 30


def test_file_sensor_in_the_daemon_adds_dynamic_keys_and_materializes_them(project):
    project.write(
        "assets/files.py",
        """
        import pandas as pd
        from partita import DynamicPartitions, FileSensor, asset

        LANDING = DynamicPartitions("landing_files")
        files = FileSensor("landing/*.csv", partitions=LANDING)


        @asset(partitions=LANDING)
        def landed(context) -> pd.DataFrame:
            return pd.DataFrame({"file": [context.partition_key]})
        """,
    )
    (project.root / "landing").mkdir()
    (project.root / "landing" / "a.csv").write_text("a")
    project.cli("daemon", "--once", "--now", "2024-01-05", check=0)
    (project.root / "landing" / "b.csv").write_text("b")
    project.cli("daemon", "--once", "--now", "2024-01-05T00:01", check=0)

    listed = project.cli("partitions", "list", "landing_files", check=0).stdout.split()
    first, second = ticks(project)
    assert listed == ["a", "b"]
    assert first["error"] is None and second["error"] is None
    assert [u["partition"] for u in first["requested"]] == ["a"]
    assert [u["partition"] for u in second["requested"]] == ["b"]
    with open_catalog(project.warehouse) as catalog:
        done = sorted(r.partition for r in catalog.history("landed") if r.status == "materialized")
    assert done == ["a", "b"]


def test_a_sensor_returns_a_result_a_list_or_nothing(tmp_path):
    @sensor
    def nothing(context):
        return None

    @sensor(every="5m", name="listing")
    def several(context):
        return [SensorRequest("a"), SensorRequest(["b", "c"], ["k"])]

    @sensor
    def wrong(context):
        return 42

    assert nothing.evaluate(context(tmp_path, "c")) == SensorResult(cursor="c")
    result = several.evaluate(context(tmp_path, None))
    assert (several.name, several.every.total_seconds()) == ("listing", 300)
    assert [r.selection for r in result.requests] == [("a",), ("b", "c")]
    with pytest.raises(TypeError, match="sensor 'wrong' returned int"):
        wrong.evaluate(context(tmp_path, None))
