"""`build_context` and `materialize_in_memory` on small assets."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
import pytest

from partita import DailyPartitions, asset, checks
from partita.errors import UsageError
from partita.execution.quality import ChecksFailed
from partita.testing import build_context, materialize_in_memory

DAYS = DailyPartitions(start="2024-01-01", end="2024-02-01", timezone="Europe/Paris")


@asset(partitions=DAYS)
def events(context) -> pd.DataFrame:
    return pd.DataFrame({"day": [context.partition_key], "hour": [context.partition_start.hour]})


@asset(partitions=DAYS, checks=[checks.expect(lambda f: (f["rows"] > 0).all(), name="saw_events")])
def counted(events: pa.Table, context, db) -> pd.DataFrame:
    return pd.DataFrame({"rows": [events.num_rows], "db": [db], "mark": [context.watermark]})


def test_build_context_gives_the_partition_interval_and_watermark() -> None:
    context = build_context(events, partition_key="2024-01-05", watermark=7)
    assert context.partition_start == datetime(2024, 1, 4, 23, tzinfo=UTC)
    assert context.partition_end == datetime(2024, 1, 5, 23, tzinfo=UTC)
    assert (context.watermark, context.asset_name) == (7, "events")
    latest = build_context(events, now=datetime(2024, 1, 10, 12, tzinfo=UTC))
    assert latest.partition_key == "2024-01-09"
    assert events.fn(context)["day"].tolist() == ["2024-01-05"]


def test_materialize_in_memory_runs_assets_in_order_with_inputs_and_resources() -> None:
    outputs = materialize_in_memory(
        [counted, events], partition="2024-01-05", resources={"db": "fake"}, watermark=3
    )
    assert outputs["events"].to_dict("list") == {"day": ["2024-01-05"], "hour": [0]}
    assert outputs["counted"].to_dict("list") == {"rows": [1], "db": ["fake"], "mark": [3]}
    given = materialize_in_memory(
        counted,
        partition="2024-01-06",
        inputs={"events": pd.DataFrame({"x": [1, 2, 3]})},
        resources={"db": "fake"},
        as_arrow=True,
    )
    assert list(given) == ["counted"]
    assert given["counted"]["rows"].to_pylist() == [3]


def test_materialize_in_memory_applies_checks_and_asks_for_a_partition() -> None:
    with pytest.raises(ChecksFailed, match="saw_events: returned False"):
        materialize_in_memory(
            counted,
            partition="2024-01-06",
            inputs={"events": pd.DataFrame({"x": []})},
            resources={"db": "fake"},
        )
    with pytest.raises(UsageError, match="asset 'events' is partitioned: pass partition="):
        materialize_in_memory(events)
