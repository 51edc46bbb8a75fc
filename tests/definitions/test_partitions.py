from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partita.definitions.partitions import (
    DailyPartitions,
    HourlyPartitions,
    MonthlyPartitions,
    Partitions,
    StaticPartitions,
    TimePartitions,
    WeeklyPartitions,
)
from partita.errors import DefinitionError, PartitionError

NEW_YORK = ZoneInfo("America/New_York")
TIMEZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
CADENCES: list[type[TimePartitions]] = [
    HourlyPartitions,
    DailyPartitions,
    WeeklyPartitions,
    MonthlyPartitions,
]


def interval(partitions: TimePartitions, key: str) -> tuple[datetime, datetime]:
    """The half-open interval [start, end) covered by `key`."""
    index = partitions.index(key)
    return partitions.partition_start(index), partitions.partition_end(index)


def aligned_start(cadence: type[TimePartitions], day: date, hour: int) -> datetime:
    if cadence is HourlyPartitions:
        return datetime(day.year, day.month, day.day, hour)
    if cadence is WeeklyPartitions:
        day -= timedelta(days=day.weekday())
    elif cadence is MonthlyPartitions:
        day = day.replace(day=1)
    return datetime(day.year, day.month, day.day)


@st.composite
def time_partitions(draw: st.DrawFn, bounded: bool | None = None) -> TimePartitions:
    cadence = draw(st.sampled_from(CADENCES))
    timezone = draw(st.sampled_from(TIMEZONES))
    day = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)))
    start = aligned_start(cadence, day, draw(st.integers(0, 23)))
    open_ended = cadence(start, timezone=timezone)
    has_end = draw(st.booleans()) if bounded is None else bounded
    if not has_end:
        return open_ended
    return cadence(start, open_ended.partition_start(draw(st.integers(1, 400))), timezone)


moments = st.datetimes(min_value=datetime(1999, 1, 1), max_value=datetime(2032, 1, 1)).map(
    lambda moment: moment.replace(tzinfo=UTC)
)


def new_york_daily_2013() -> DailyPartitions:
    return DailyPartitions(start="2013-01-01", end="2014-01-01", timezone="America/New_York")


# Examples


def test_daily_2013_in_new_york() -> None:
    daily = new_york_daily_2013()
    keys = daily.keys()
    assert len(keys) == daily.count() == daily.index_bound() == 365
    assert keys[0] == "2013-01-01"
    assert keys[-1] == "2013-12-31"
    assert daily.describe() == "daily from 2013-01-01 to 2013-12-31 (America/New_York)"
    assert daily.start == datetime(2013, 1, 1, tzinfo=NEW_YORK)
    assert daily.end == datetime(2014, 1, 1, tzinfo=NEW_YORK)
    assert daily.timezone == "America/New_York"
    assert (daily.kind, daily.hive_key) == ("daily", "date")


def test_daily_windows_follow_dst() -> None:
    daily = new_york_daily_2013()
    spring_start, spring_end = interval(daily, "2013-03-10")
    assert spring_end.astimezone(UTC) - spring_start.astimezone(UTC) == timedelta(hours=23)
    autumn_start, autumn_end = interval(daily, "2013-11-03")
    assert autumn_end.astimezone(UTC) - autumn_start.astimezone(UTC) == timedelta(hours=25)
    assert spring_start.tzinfo is NEW_YORK


def test_monthly_2013() -> None:
    monthly = MonthlyPartitions(start="2013-01", end="2014-01")
    assert monthly.keys() == [f"2013-{month:02d}" for month in range(1, 13)]
    assert interval(monthly, "2013-02") == (
        datetime(2013, 2, 1, tzinfo=ZoneInfo("UTC")),
        datetime(2013, 3, 1, tzinfo=ZoneInfo("UTC")),
    )
    assert monthly.index("2013-12") == 11
    assert (monthly.kind, monthly.hive_key) == ("monthly", "month")


def test_weekly_keys_are_mondays() -> None:
    weekly = WeeklyPartitions(start="2012-12-31", end="2014-01-01")
    keys = weekly.keys()
    assert keys[0] == "2012-12-31"
    assert keys[-1] == "2013-12-23"  # end is rounded down to whole weeks: the last ends 12-30
    assert all(date.fromisoformat(key).weekday() == 0 for key in keys)
    assert (weekly.kind, weekly.hive_key) == ("weekly", "week")
    assert weekly.end == datetime(2013, 12, 30, tzinfo=ZoneInfo("UTC"))


def test_hourly_keys_and_dst_wall_clock() -> None:
    hourly = HourlyPartitions(start="2013-03-10", end="2013-03-11", timezone="America/New_York")
    assert hourly.count() == 24  # one partition per wall-clock hour, even on a 23-hour day
    assert hourly.keys(0, 3) == ["2013-03-10T00", "2013-03-10T01", "2013-03-10T02"]
    skipped_start, skipped_end = interval(hourly, "2013-03-10T02")
    assert skipped_start.astimezone(UTC) == skipped_end.astimezone(UTC)
    assert (hourly.kind, hourly.hive_key) == ("hourly", "hour")
    assert hourly.describe() == "hourly from 2013-03-10T00 to 2013-03-10T23 (America/New_York)"


def test_hourly_keys_across_days() -> None:
    hourly = HourlyPartitions("2013-01-01T05", "2013-01-03")
    assert hourly.count() == 43
    assert hourly.keys(17, 21) == [
        "2013-01-01T22",
        "2013-01-01T23",
        "2013-01-02T00",
        "2013-01-02T01",
    ]
    assert hourly.index("2013-01-02T23") == 42


@pytest.mark.parametrize(
    ("bound", "expected"),
    [
        ("2013-01-01", datetime(2013, 1, 1)),
        ("2013-01-01T05", datetime(2013, 1, 1, 5)),
        ("2013-01-01 05:00", datetime(2013, 1, 1, 5)),
        ("2013-01-01T05:00:00", datetime(2013, 1, 1, 5)),
        ("2013-01", datetime(2013, 1, 1)),
        (date(2013, 1, 1), datetime(2013, 1, 1)),
        (datetime(2013, 1, 1, 5), datetime(2013, 1, 1, 5)),
    ],
)
def test_bounds_accept_several_spellings(bound: object, expected: datetime) -> None:
    hourly = HourlyPartitions(bound, timezone="America/New_York")  # type: ignore[arg-type]
    assert hourly.start == expected.replace(tzinfo=NEW_YORK)


def test_aware_bounds_are_converted() -> None:
    daily = DailyPartitions("2013-01-01T05:00+00:00", timezone="America/New_York")
    assert daily.start == datetime(2013, 1, 1, tzinfo=NEW_YORK)
    from_datetime = DailyPartitions(
        datetime(2013, 1, 1, 5, tzinfo=UTC), timezone="America/New_York"
    )
    assert from_datetime == daily


def test_count_depends_on_now() -> None:
    daily = new_york_daily_2013()
    assert daily.count(now=datetime(2012, 6, 1)) == 0
    assert daily.count(now=datetime(2013, 1, 1, 23)) == 0
    assert daily.count(now=datetime(2013, 1, 2)) == 1
    # midnight in New York is 05:00 UTC
    assert daily.count(now=datetime(2013, 1, 3, 4, 59, tzinfo=UTC)) == 1
    assert daily.count(now=datetime(2013, 1, 3, 5, tzinfo=UTC)) == 2
    assert daily.count(now=datetime(2020, 1, 1)) == 365
    assert daily.keys(now=datetime(2013, 1, 3)) == ["2013-01-01", "2013-01-02"]


def test_open_ended_count_needs_now() -> None:
    daily = DailyPartitions("2013-01-01")
    assert daily.index_bound() is None
    assert daily.end is None
    assert daily.describe() == "daily from 2013-01-01 on (UTC)"
    assert daily.count(now=datetime(2013, 1, 11)) == 10
    with pytest.raises(PartitionError, match="without `now`: they have no end"):
        daily.count()
    with pytest.raises(PartitionError, match="pass now="):
        daily.keys()
    assert daily.key(100_000) == (date(2013, 1, 1) + timedelta(days=100_000)).isoformat()


def test_intervals() -> None:
    daily = new_york_daily_2013()
    assert daily.partition_start(0) == datetime(2013, 1, 1, tzinfo=NEW_YORK)
    assert daily.partition_end(0) == datetime(2013, 1, 2, tzinfo=NEW_YORK)
    assert daily.partition_start(-1) == datetime(2012, 12, 31, tzinfo=NEW_YORK)
    assert daily.index_containing(datetime(2013, 1, 2, 4, tzinfo=UTC)) == 0
    assert daily.index_containing(datetime(2013, 1, 2, 5, tzinfo=UTC)) == 1
    assert daily.index_containing(datetime(2012, 12, 30, 12)) == -2
    assert daily.index_containing(datetime(2015, 1, 1)) == 730
    assert daily.last_complete_index(datetime(2013, 1, 1, 12)) == -1
    assert daily.last_complete_index(datetime(2013, 1, 3)) == 1
    assert daily.last_complete_index(datetime(2015, 1, 1)) == 364


def test_indices_overlapping() -> None:
    daily = new_york_daily_2013()
    assert daily.indices_overlapping(datetime(2013, 1, 2), datetime(2013, 1, 4)) == range(1, 3)
    assert daily.indices_overlapping(datetime(2013, 1, 2), datetime(2013, 1, 4, 1)) == range(1, 4)
    assert daily.indices_overlapping(datetime(2012, 1, 1), datetime(2013, 1, 2)) == range(0, 1)
    assert daily.indices_overlapping(datetime(2013, 12, 31), datetime(2016, 1, 1)) == range(
        364, 365
    )
    assert len(daily.indices_overlapping(datetime(2013, 1, 4), datetime(2013, 1, 4))) == 0
    utc_window = daily.indices_overlapping(
        datetime(2013, 1, 2, tzinfo=UTC), datetime(2013, 1, 2, 6, tzinfo=UTC)
    )
    assert utc_window == range(0, 2)


def test_equality_and_hash() -> None:
    assert new_york_daily_2013() == new_york_daily_2013()
    assert hash(new_york_daily_2013()) == hash(new_york_daily_2013())
    assert DailyPartitions("2013-01-01") != DailyPartitions("2013-01-01", timezone="Asia/Tokyo")
    assert DailyPartitions("2013-01-01") != DailyPartitions("2013-01-01", "2014-01-01")
    assert DailyPartitions("2013-01-07") != WeeklyPartitions("2013-01-07")
    assert StaticPartitions(["eu", "us"]) == StaticPartitions(("eu", "us"))
    assert StaticPartitions(["eu", "us"]) != StaticPartitions(["us", "eu"])
    assert (
        len({StaticPartitions(["eu"]), StaticPartitions(["eu"]), MonthlyPartitions("2013-01")}) == 2
    )
    assert DailyPartitions("2013-01-01") != "2013-01-01"


@pytest.mark.parametrize(
    "partitions",
    [
        new_york_daily_2013(),
        HourlyPartitions("2013-01-01T05"),
        WeeklyPartitions("2012-12-31", "2014-01-01", "Asia/Kolkata"),
        MonthlyPartitions("2013-01"),
        StaticPartitions(["eu", "us"]),
    ],
)
def test_repr_rebuilds_an_equal_declaration(partitions: Partitions) -> None:
    namespace = {
        "HourlyPartitions": HourlyPartitions,
        "DailyPartitions": DailyPartitions,
        "WeeklyPartitions": WeeklyPartitions,
        "MonthlyPartitions": MonthlyPartitions,
        "StaticPartitions": StaticPartitions,
    }
    assert eval(repr(partitions), namespace) == partitions


def test_time_partitions_are_abstract() -> None:
    with pytest.raises(TypeError):
        TimePartitions("2013-01-01")  # type: ignore[abstract]


# Static


def test_static_partitions() -> None:
    regions = StaticPartitions(["us", "eu", "asia"])
    assert regions.keys() == ["us", "eu", "asia"]
    assert regions.count() == regions.count(now=datetime(1990, 1, 1)) == 3
    assert regions.index("asia") == 2
    assert regions.key(1) == "eu"
    assert regions.keys(1, 3) == ["eu", "asia"]
    assert regions.describe() == "static: us, eu, asia"
    assert (regions.kind, regions.hive_key) == ("static", "partition")
    assert StaticPartitions(["a/b", "c d"]).keys() == ["a/b", "c d"]


def test_static_describe_shortens_long_lists() -> None:
    many = StaticPartitions([f"k{number}" for number in range(25)])
    assert many.describe().endswith("k19 and 5 more")


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ([], "the list of keys is empty"),
        ("eu", "got the single string 'eu'; pass a list of keys"),
        (["eu", "us", "eu"], "key 'eu' appears more than once"),
        (["eu", 5], "key 5 at position 1 is a int, not a string; write it as '5'"),
        (["eu", ""], "the key at position 1 is empty"),
    ],
)
def test_static_declaration_errors(keys: object, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        StaticPartitions(keys)  # type: ignore[arg-type]


def test_static_key_errors() -> None:
    regions = StaticPartitions(["eu", "us"])
    with pytest.raises(
        PartitionError,
        match="'asia' is not one of the static partitions: expected one of 'eu', 'us'",
    ):
        regions.index("asia")
    with pytest.raises(
        PartitionError, match=r"index 2 is out of range: static: eu, us; indices run from 0 to 1"
    ):
        regions.key(2)
    with pytest.raises(PartitionError, match="out of range"):
        regions.keys(0, 3)


# Declaration errors


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: DailyPartitions("yesterday"), "cannot read start 'yesterday' as a date or time"),
        (lambda: DailyPartitions("2013-01-01", "2013-02-30"), "cannot read end '2013-02-30'"),
        (lambda: DailyPartitions(20130101), "start 20130101 is not a date"),  # type: ignore[arg-type]
        (
            lambda: DailyPartitions("2013-01-01", timezone="Mars/Olympus"),
            "unknown timezone 'Mars/Olympus'",
        ),
        (lambda: DailyPartitions("2013-01-01", timezone=None), "unknown timezone None"),  # type: ignore[arg-type]
        (
            lambda: DailyPartitions("2013-01-02", "2013-01-01"),
            "end '2013-01-01' is not after start '2013-01-02'",
        ),
        (lambda: DailyPartitions("2013-01-01", "2013-01-01"), "is not after start"),
        (lambda: DailyPartitions("2013-01-01T05"), "is not at midnight.*use start='2013-01-01'"),
        (
            lambda: HourlyPartitions("2013-01-01 05:30"),
            "is not on the hour.*use start='2013-01-01T05'",
        ),
        (
            lambda: WeeklyPartitions("2013-01-02"),
            "is not a Monday at midnight.*use start='2012-12-31' \\(the Monday of that week\\)",
        ),
        (lambda: MonthlyPartitions("2013-01-15"), "is not the 1st of a month.*use start='2013-01'"),
        (
            lambda: WeeklyPartitions("2013-01-07", "2013-01-10"),
            "leaves no whole weekly partition.*set end to '2013-01-14' or later",
        ),
    ],
)
def test_declaration_errors(build: Callable[[], object], message: str) -> None:
    with pytest.raises(DefinitionError, match=f"invalid partition bounds: .*{message}"):
        build()


# Key errors


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "2013-13-01",
            "partition key '2013-13-01' is not a valid daily key: "
            "expected YYYY-MM-DD between 2013-01-01 and 2013-12-31",
        ),
        ("2013-1-01", "not a valid daily key"),
        (20130101, "partition key 20130101 is not a valid daily key"),
        ("2012-12-31", "'2012-12-31' is before the first daily partition: expected YYYY-MM-DD"),
        ("2014-01-01", "'2014-01-01' is at or after the end of the daily partitions: expected"),
    ],
)
def test_daily_key_errors(key: object, message: str) -> None:
    with pytest.raises(PartitionError, match=message):
        new_york_daily_2013().index(key)  # type: ignore[arg-type]


def test_weekly_key_must_be_a_monday() -> None:
    weekly = WeeklyPartitions("2012-12-31")
    with pytest.raises(
        PartitionError,
        match=r"'2013-01-02' is not a valid weekly key: it is a Wednesday, and weekly keys "
        r"are Mondays \(its week is '2012-12-31'\); "
        r"expected YYYY-MM-DD \(a Monday\) from 2012-12-31 on",
    ):
        weekly.index("2013-01-02")


@pytest.mark.parametrize(
    ("partitions", "key"),
    [
        (HourlyPartitions("2013-01-01"), "2013-01-01T24"),
        (HourlyPartitions("2013-01-01"), "2013-01-01"),
        (MonthlyPartitions("2013-01"), "2013-01-01"),
        (MonthlyPartitions("2013-01"), "2013-00"),
    ],
)
def test_malformed_keys_name_the_format(partitions: TimePartitions, key: str) -> None:
    with pytest.raises(PartitionError, match=f"expected {partitions.key_format} from"):
        partitions.index(key)


def test_index_errors() -> None:
    daily = new_york_daily_2013()
    with pytest.raises(PartitionError, match="partition index 365 is out of range: daily from"):
        daily.key(365)
    with pytest.raises(PartitionError, match="indices run from 0 to 364"):
        daily.key(-1)
    with pytest.raises(PartitionError, match=r"indices start at 0 \(2013-01-01\)"):
        DailyPartitions("2013-01-01").key(-1)
    with pytest.raises(PartitionError, match="partition index '3' is not an integer"):
        daily.key("3")  # type: ignore[arg-type]
    with pytest.raises(PartitionError, match="out of range"):
        daily.keys(360, 366)
    with pytest.raises(PartitionError, match="outside the years 1 to 9999"):
        DailyPartitions("2013-01-01").key(10**7)
    with pytest.raises(PartitionError, match="outside the years 1 to 9999"):
        MonthlyPartitions("2013-01").key(10**6)
    with pytest.raises(PartitionError, match="expected a datetime, got '2013-01-01'"):
        daily.index_containing("2013-01-01")  # type: ignore[arg-type]
    assert daily.keys(5, 5) == []
    assert daily.keys(5, 2) == []


# Invariants


@given(time_partitions(), st.integers(0, 2000))
def test_index_and_key_round_trip(partitions: TimePartitions, index: int) -> None:
    bound = partitions.index_bound()
    if bound is not None:
        index %= bound
    key = partitions.key(index)
    assert partitions.index(key) == index
    assert partitions.key(partitions.index(key)) == key
    assert interval(partitions, key) == (
        partitions.partition_start(index),
        partitions.partition_end(index),
    )


@given(time_partitions(bounded=True), st.integers(0, 400), st.integers(0, 400))
def test_keys_are_contiguous_and_sorted(
    partitions: TimePartitions, first: int, second: int
) -> None:
    bound = partitions.index_bound()
    assert bound is not None
    start, stop = sorted((first % (bound + 1), second % (bound + 1)))
    keys = partitions.keys(start, stop)
    assert len(keys) == stop - start
    assert keys == sorted(keys)
    assert [partitions.index(key) for key in keys] == list(range(start, stop))


@given(time_partitions(), st.integers(-50, 500))
def test_intervals_are_consecutive(partitions: TimePartitions, index: int) -> None:
    start, end = partitions.partition_start(index), partitions.partition_end(index)
    assert end == partitions.partition_start(index + 1)
    assert start.astimezone(UTC) <= end.astimezone(UTC)
    assert start.tzinfo == end.tzinfo == ZoneInfo(partitions.timezone)


@given(time_partitions(), moments)
def test_index_containing_agrees_with_the_interval(
    partitions: TimePartitions, moment: datetime
) -> None:
    index = partitions.index_containing(moment)
    assert partitions.partition_start(index).astimezone(UTC) <= moment
    assert moment < partitions.partition_end(index).astimezone(UTC)


@given(time_partitions(), moments, moments)
def test_count_is_monotone_in_now(
    partitions: TimePartitions, first: datetime, second: datetime
) -> None:
    earlier, later = sorted((first, second))
    assert partitions.count(now=earlier) <= partitions.count(now=later)
    latest = partitions.last_complete_index(later)
    assert latest == partitions.count(now=later) - 1
    if latest >= 0:
        assert partitions.partition_end(latest).astimezone(UTC) <= later


@settings(max_examples=50)
@given(time_partitions(), moments, st.integers(1, 90 * 24 * 3600))
def test_indices_overlapping_is_exact(
    partitions: TimePartitions, start: datetime, seconds: int
) -> None:
    end = start + timedelta(seconds=seconds)
    found = partitions.indices_overlapping(start, end)
    bound = partitions.index_bound()
    assert found.start >= 0
    assert bound is None or found.stop <= bound
    for index in (found.start - 1, *found, found.stop):
        interval_start = partitions.partition_start(index).astimezone(UTC)
        interval_end = partitions.partition_end(index).astimezone(UTC)
        overlaps = interval_start < end and start < interval_end
        if index in found:
            assert overlaps or interval_start == interval_end
        elif index >= 0 and (bound is None or index < bound):
            assert not overlaps
