"""Splitting data by quarantines: every row is kept or set aside exactly once, in order."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partita import checks
from partita.execution.quality import ChecksFailed
from partita.execution.quarantine import CHECK_COLUMN, REASON_COLUMN, apply_quarantines


@settings(deadline=None)  # the first example imports pandas
@given(
    values=st.lists(st.integers(-5, 5), max_size=40),
    limits=st.lists(st.integers(-5, 5), min_size=1, max_size=3),
)
def test_every_row_is_kept_or_set_aside_once_in_order(values, limits) -> None:
    table = pa.table({"v": pa.array(values, pa.int64()), "i": list(range(len(values)))})
    quarantines = [
        checks.quarantine(lambda t, limit=limit: t["v"] > limit, name=f"above_{limit}")
        for limit in limits
    ]
    split = apply_quarantines("asset 'x'", quarantines, table)
    kept = split.kept.to_pydict()
    aside = split.rows.to_pydict()
    assert sorted(kept["i"] + aside["i"]) == list(range(len(values)))
    assert kept["i"] == sorted(kept["i"])
    assert all(v > max(limits) for v in kept["v"])
    for value, name in zip(aside["v"], aside[CHECK_COLUMN], strict=True):
        first = next(limit for limit in limits if not value > limit)  # the first that rejects
        assert name == f"above_{first}"
    assert split.count == len(aside["i"])
    assert set(aside[REASON_COLUMN]) <= {f"rejected by above_{limit}" for limit in limits}


def test_predicates_take_pandas_arrow_or_polars_and_nulls_are_rejected() -> None:
    import polars as pl
    import pyarrow.compute as pc

    def by_pandas(frame):
        return frame["v"] > 0

    def by_arrow(table: pa.Table):
        return pc.less(table["v"], 4)

    def by_polars(frame: pl.DataFrame):
        return frame["v"] != 2

    table = pa.table({"v": [1, 2, 3, 4, None, -1]})
    split = apply_quarantines(
        "x",
        [checks.quarantine(by_pandas), checks.quarantine(by_arrow), checks.quarantine(by_polars)],
        table,
    )
    assert split.kept["v"].to_pylist() == [1, 3]
    assert split.rows[CHECK_COLUMN].to_pylist() == [
        "by_pandas",
        "by_pandas",
        "by_arrow",
        "by_polars",
    ]


def test_a_mask_of_the_wrong_length_or_too_many_rows_fail_with_the_reason() -> None:
    table = pa.table({"v": [1, 2, 3, 4]})
    with pytest.raises(ChecksFailed, match="returned 1 values for 4 rows"):
        apply_quarantines("x", [checks.quarantine(lambda f: [True], name="short")], table)
    limited = checks.quarantine(lambda f: f["v"] > 3, name="big", max_fraction=0.5)
    with pytest.raises(ChecksFailed, match=r"big: 3 of 4 rows quarantined .*max_fraction=0.5"):
        apply_quarantines("x", [limited], table)
    with pytest.raises(ValueError, match="max_fraction must be between 0 and 1"):
        checks.quarantine(lambda f: f, max_fraction=2)
