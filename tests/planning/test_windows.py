"""Windows: questions about the reads of many partitions at once, against brute force
over each window (the windows themselves: tests/definitions/mappings)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from partita.planning.windows import Windows


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


@st.composite
def windows_in_order(draw) -> tuple[Windows, int]:
    """Windows one after another, as coarser grains read finer ones: gaps and empty
    windows allowed, no overlap (planning takes a one-pass maximum over them)."""
    cuts = sorted(draw(st.lists(st.integers(0, 60), min_size=0, max_size=40)))
    low, high = np.array(cuts[0::2], dtype=np.int64), np.array(cuts[1::2], dtype=np.int64)
    low = low[: len(high)]
    return Windows(low, high), (max(cuts) if cuts else 0) + draw(st.integers(0, 3))


@settings(max_examples=200, deadline=None)
@given(windows_in_order(), st.data())
def test_maximum_over_windows_in_order_is_the_greatest_value_of_each(case, data) -> None:
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
