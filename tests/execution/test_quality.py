"""Schema checks see every published partition, whichever order files are listed in."""

from __future__ import annotations

from datetime import UTC, datetime

NOW = datetime(2024, 2, 1, tzinfo=UTC)

NOTES = """
import json
import pathlib

import pyarrow as pa
from partita import DailyPartitions, asset

TYPES = {"null": pa.null(), "string": pa.string(), "int64": pa.int64()}
PLAN = json.loads((pathlib.Path(__file__).parent / "plan.json").read_text())


@asset(partitions=DailyPartitions(start="2024-01-01", end="2024-01-04"))
def notes(context):
    kind = PLAN[context.partition_key]
    return pa.table({"id": [1], "note": pa.array([None], TYPES[kind])})
"""


def test_a_type_conflict_is_caught_behind_an_all_null_partition(project) -> None:
    import json

    project.write("assets/notes.py", NOTES)
    plan = project.root / "assets" / "plan.json"
    plan.write_text(
        json.dumps({"2024-01-01": "null", "2024-01-02": "string", "2024-01-03": "int64"})
    )
    for day, status in (("2024-01-01", "materialized"), ("2024-01-02", "materialized")):
        report = project.load().materialize("notes", day, now=NOW)
        assert [r.status for r in report.results] == [status]
    third = project.load().materialize("notes", "2024-01-03", now=NOW)
    (result,) = third.results
    assert result.status == "failed"
    assert "note: string -> int64" in result.error
    assert len(project.load().read("notes")) == 2  # the third was not published
