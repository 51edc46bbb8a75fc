"""Catalog rows turned into columns in bulk: each bulk step equals the row-by-row one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from partita import DailyPartitions, StaticPartitions
from partita.catalog import StateRow
from partita.errors import PartitionError
from partita.planning.state_columns import (
    code_indices,
    fields,
    micros,
    micros_of,
    partition_indices,
)

DAYS = DailyPartitions(start="2024-01-01", end="2024-04-01")

moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            moments.map(datetime.isoformat),  # as the catalog writes them
            st.tuples(moments, offsets).map(lambda pair: pair[0].astimezone(pair[1]).isoformat()),
        ),
        max_size=80,
    )
)
def test_times_in_bulk_are_the_times_one_by_one(texts) -> None:
    assert micros(texts).tolist() == [micros_of(text) for text in texts]


def test_a_time_is_microseconds_since_the_epoch() -> None:
    moment = datetime(2024, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
    expected = int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
    assert micros([moment.isoformat(), None]).tolist() == [expected, 0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.integers(min_value=-5, max_value=100).map(
                lambda day: (datetime(2024, 1, 1) + timedelta(days=day)).strftime("%Y-%m-%d")
            ),
            st.sampled_from(["eu", "2024-13-01", "", "2024-1-2"]),
        ),
        min_size=0,
        max_size=150,  # past the 64 keys from which keys are looked up in bulk
    )
)
def test_indices_in_bulk_are_the_indices_one_by_one(keys) -> None:
    def one_by_one(key):
        try:
            return DAYS.index(key)
        except PartitionError:
            return -1

    assert partition_indices(DAYS, keys).tolist() == [one_by_one(key) for key in keys]


def test_static_keys_and_an_unpartitioned_asset() -> None:
    regions = StaticPartitions(["eu", "us"])
    assert partition_indices(regions, ["us", "xx", None] * 30).tolist() == [1, -1, -1] * 30
    assert partition_indices(None, [None, "2024-01-01"]).tolist() == [0, -1]


def test_new_code_versions_are_appended_in_the_order_they_appear() -> None:
    codes = ["c1"]
    assert code_indices(codes, ["c3", None, "c1", "c2", "c3"]) == [1, -1, 0, 2, 1]
    assert codes == ["c1", "c3", "c2"]


def test_fields_are_the_columns_of_the_rows() -> None:
    rows = [
        StateRow("a", "failed", False, None, 0, 0, None, 1, None),
        StateRow("b", "materialized", True, "c", 2, 1, "t", 3, "d", True),
    ]
    assert fields(rows)[0] == ["a", "b"]
    assert fields(rows)[9] == [False, True]
    assert len(fields(rows)) == len(StateRow._fields)
