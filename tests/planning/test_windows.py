"""Windows: the reads of many partitions at once, against brute force over each window."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from partita import DailyPartitions, HourlyPartitions, MonthlyPartitions
from partita.definitions.mappings import upstream_indices
from partita.planning.windows import Windows, windows


@st.composite
def windows_over(draw) -> tuple[Windows, int]:
    size = draw(st.integers(0, 40))
    bounds = draw(
        st.lists(st.tuples(st.integers(0, size), st.integers(0, size)), min_size=0, max_size=30)
    )
    low = np.array([min(b) for b in bounds], dtype=np.int64)
    high = np.array([max(b) for b in bounds], dtype=np.int64)
    return Windows(low, high), size


@settings(max_examples=200, deadline=None)
@given(windows_over(), st.data())
def test_maximum_is_the_greatest_value_of_each_window(case, data) -> None:
    reads, size = case
    values = np.array(data.draw(st.lists(st.integers(0, 9), min_size=size, max_size=size)))
    values = values.astype(np.int64)
    expected = [max(values[lo:hi], default=0) for lo, hi in zip(reads.low, reads.high, strict=True)]
    assert reads.maximum(values).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(windows_over(), st.data())
def test_first_true_is_the_first_flag_set_in_each_window(case, data) -> None:
    reads, size = case
    flags = np.array(data.draw(st.lists(st.booleans(), min_size=size, max_size=size)), bool)
    expected = [
        next((i for i in range(lo, hi) if flags[i]), size)
        for lo, hi in zip(reads.low, reads.high, strict=True)
    ]
    assert reads.first_true(flags).tolist() == expected


DAYS = DailyPartitions(start="2024-01-01")
CASES = [
    (DAYS, DAYS, None),
    (DAYS, DAYS, (-6, 0)),
    (DAYS, DAYS, (2, 5)),
    (MonthlyPartitions(start="2023-12-01"), DAYS, None),
    (HourlyPartitions(start="2024-01-01T00", timezone="Europe/Paris"), DAYS, (-1, 0)),
    (DailyPartitions(start="2024-01-01", timezone="America/New_York"), DAYS, None),
    (None, DAYS, None),
    (DAYS, None, None),
]


@settings(max_examples=60, deadline=None)
@given(
    case=st.sampled_from(CASES),
    first=st.integers(0, 80),
    length=st.integers(0, 40),
    upstream_count=st.integers(0, 120),
)
def test_windows_are_the_upstream_indices_of_each_partition(
    case, first, length, upstream_count
) -> None:
    downstream, upstream, offset = case
    indices = np.arange(first, first + length) if downstream is not None else np.zeros(1, int)
    reads = windows(downstream, indices, upstream, offset, upstream_count)
    for k, index in enumerate(indices):
        expected = upstream_indices(
            downstream, None if downstream is None else int(index), upstream, offset,
            upstream_count,
        )  # fmt: skip
        read = list(range(reads.low[k], reads.high[k]))
        assert read == ([0] if expected is None else list(expected))
