"""The contract every partition mapping passes; a new mapping adds itself to CASES.

For random partitionings and numbers of existing upstream partitions, each mapping's
vectorized `windows` must equal a straightforward per-index computation written here,
`clipped` must say when the window was cut short, `validate` must accept the pairs the
mapping supports and explain the others in a sentence, and declaring the mapping on a
dependency must change the asset's `deps_version` exactly when it reads differently
from the default mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from partita.definitions.asset import AssetDep, asset
from partita.definitions.mappings import (
    AllPartitions,
    Identity,
    LastPartition,
    PartitionMapping,
    PerDimension,
    StaticKeys,
    TimeWindow,
    default_mapping,
)
from partita.definitions.partitions import (
    DailyPartitions,
    HourlyPartitions,
    MultiPartitions,
    Partitions,
    StaticPartitions,
)
from partita.definitions.partitions.multi import Dimensions
from partita.graph.graph import build_graph

from . import REGIONS, multi_partitions, offsets, small_time_partitions

CITIES = StaticPartitions(["paris", "nyc", "eu", "us", "asia"])
DAYS = DailyPartitions("2024-01-01", "2024-02-01")
DATE_REGION = MultiPartitions(date=DAYS, region=REGIONS)
HOUR_REGION = MultiPartitions(hour=HourlyPartitions("2024-01-01"), region=REGIONS)
Reference = Callable[[PartitionMapping, Partitions | None, int, Partitions | None, int], range]


def reference_identity(mapping, downstream, index, upstream, count) -> range:
    return range(index, index + 1)


def reference_time_window(mapping, downstream, index, upstream, count) -> range:
    """Scan the upstream partitions for those overlapping [start, end - 1us], in UTC."""
    start = downstream.partition_start(index)
    last_moment = downstream.partition_end(index) - timedelta(microseconds=1)
    first = upstream.index_containing(start)
    last = upstream.index_containing(last_moment)
    low, high = mapping.offset
    return range(first + low, last + high + 1)


def reference_all(mapping, downstream, index, upstream, count) -> range:
    return range(0, count)


def reference_last(mapping, downstream, index, upstream, count) -> range:
    return range(count - 1, count)


def reference_static(mapping, downstream, index, upstream, count) -> range:
    key = dict(mapping.keys).get(downstream.key(index), downstream.key(index))
    position = upstream.partition_keys.index(key)
    return range(position, position + 1)


def reference_per_dimension(mapping, downstream, index, upstream, count) -> range:
    """Scan every upstream partition for the time window and the shared values."""
    down, up = Dimensions.of(downstream), Dimensions.of(upstream)
    size = up.combinations
    time_index, combination = divmod(index, down.combinations)
    values = down.combination_values(downstream)[combination]
    if up.time is None:
        times = range(0, 1)
    elif down.time is None:
        times = range(0, count // size)
    else:
        times = reference_time_window(TimeWindow(), down.time, time_index, up.time, count)
    combinations = [
        position
        for position, upstream_values in enumerate(up.combination_values(upstream))
        if all(upstream_values[name] == value for name, value in values.items() if name in up.inner)
    ]
    read = sorted(t * size + c for t in times for c in combinations)
    if not read:
        return range(times.start * size, times.start * size)
    assert read == list(range(read[0], read[-1] + 1)), "one contiguous run"
    return range(read[0], read[-1] + 1)


def _multi_pairs(time):
    same_time = st.just(time)
    return st.one_of(
        st.tuples(multi_partitions(time), multi_partitions(time)),  # same time grain
        st.tuples(small_time_partitions(), multi_partitions()),  # read every combination
        st.tuples(multi_partitions(), small_time_partitions()),  # the upstream lacks them
        st.tuples(multi_partitions(time), same_time),
        st.tuples(same_time, multi_partitions(time)),
    )


@dataclass(frozen=True)
class Case:
    """A mapping to test, the partition pairs it supports and how to compute its windows."""

    mappings: st.SearchStrategy[PartitionMapping]
    pairs: st.SearchStrategy[tuple[Partitions | None, Partitions | None]]
    reference: Reference


times = small_time_partitions()
any_partitions = st.one_of(st.none(), times, st.just(REGIONS))
CASES = {
    Identity: Case(
        st.just(Identity()),
        st.one_of(times, st.just(REGIONS), st.none()).map(lambda p: (p, p)),
        reference_identity,
    ),
    TimeWindow: Case(offsets.map(TimeWindow), st.tuples(times, times), reference_time_window),
    AllPartitions: Case(
        st.just(AllPartitions()), st.tuples(any_partitions, any_partitions), reference_all
    ),
    LastPartition: Case(
        st.just(LastPartition()), st.tuples(any_partitions, any_partitions), reference_last
    ),
    StaticKeys: Case(
        st.sampled_from(
            [StaticKeys(), StaticKeys({"asia": "nyc"}), StaticKeys({"eu": "paris", "asia": "us"})]
        ),
        st.just((REGIONS, CITIES)),
        reference_static,
    ),
    PerDimension: Case(
        st.just(PerDimension()),
        small_time_partitions().flatmap(_multi_pairs),
        reference_per_dimension,
    ),
}


def test_every_mapping_class_is_covered_by_the_contract() -> None:
    assert set(PartitionMapping.__subclasses__()) == set(CASES)


def _count(partitions: Partitions | None) -> int:
    return 1 if partitions is None else partitions.count()


@pytest.mark.parametrize("kind", list(CASES), ids=lambda kind: kind.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_windows_equal_a_per_index_computation(
    kind: type[PartitionMapping], data: st.DataObject
) -> None:
    case = CASES[kind]
    mapping = data.draw(case.mappings)
    downstream, upstream = data.draw(case.pairs)
    assert mapping.validate(downstream, upstream) is None
    count = data.draw(st.integers(0, _count(upstream)))  # later ones may not exist yet
    indices = np.arange(_count(downstream), dtype=np.int64)
    mapped = mapping.windows(downstream, indices, upstream, count)
    for k, index in enumerate(indices.tolist()):
        wanted = case.reference(mapping, downstream, index, upstream, count)
        low = min(max(wanted.start, 0), count)
        high = max(min(wanted.stop, count), low)
        assert (int(mapped.low[k]), int(mapped.high[k])) == (low, high)
        assert bool(mapped.clipped[k]) == ((low, high) != (wanted.start, wanted.stop))


@pytest.mark.parametrize(
    ("mapping", "downstream", "upstream"),
    [
        (Identity(), REGIONS, CITIES),
        (Identity(), None, REGIONS),
        (TimeWindow(), REGIONS, REGIONS),
        (TimeWindow((-1, 0)), None, None),
        (TimeWindow((2, 1)), None, None),
        (StaticKeys(), REGIONS, StaticPartitions(["eu"])),
        (StaticKeys(), REGIONS, None),
        (StaticKeys({"asia": "mars"}), REGIONS, CITIES),
        (PerDimension(), DATE_REGION, HOUR_REGION),
        (PerDimension(), DATE_REGION, MultiPartitions(date=DAYS, region=StaticPartitions(["eu"]))),
        (PerDimension(region=TimeWindow()), DATE_REGION, DATE_REGION),
        (PerDimension(planet=Identity()), DATE_REGION, DATE_REGION),
        (PerDimension(date=TimeWindow((-6, 0))), DATE_REGION, DATE_REGION),
        (PerDimension(date=TimeWindow((2, 1))), DAYS, DATE_REGION),
        (PerDimension(), DATE_REGION, MultiPartitions(product=CITIES, date=DAYS, region=REGIONS)),
    ],
)
def test_validate_explains_an_unsupported_pair_in_a_sentence(
    mapping: PartitionMapping, downstream: Partitions | None, upstream: Partitions | None
) -> None:
    problem = mapping.validate(downstream, upstream)
    assert isinstance(problem, str) and len(problem.split()) > 5


def _deps_version(upstream_partitions, downstream_partitions, dep: AssetDep) -> str:
    @asset(name="up", partitions=upstream_partitions)
    def up() -> None: ...

    @asset(name="down", partitions=downstream_partitions, deps=[dep])
    def down() -> None: ...

    return build_graph([up, down]).deps_version("down")


@pytest.mark.parametrize("kind", list(CASES), ids=lambda kind: kind.__name__)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_deps_version_changes_exactly_when_the_mapping_reads_differently(
    kind: type[PartitionMapping], data: st.DataObject
) -> None:
    case = CASES[kind]
    mapping = data.draw(case.mappings)
    downstream, upstream = data.draw(case.pairs)
    assume(default_mapping(downstream, upstream).validate(downstream, upstream) is None)
    plain = _deps_version(upstream, downstream, AssetDep("up"))
    declared = _deps_version(upstream, downstream, AssetDep("up", mapping=mapping))
    is_default = mapping == default_mapping(downstream, upstream)
    assert (declared == plain) == is_default
    if isinstance(mapping, TimeWindow) and mapping.offset != (0, 0):
        # the offset= shorthand is the same dependency
        assert declared == _deps_version(
            upstream, downstream, AssetDep("up", offset=mapping.offset)
        )
