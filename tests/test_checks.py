"""The built-in checks and callables as checks, on small Arrow tables."""

from __future__ import annotations

import pyarrow as pa
import pytest

from partita import checks

TABLE = pa.table(
    {
        "id": [1, 2, 2],
        "origin": ["EWR", "JFK", "XXX"],
        "delay": [1.0, float("nan"), None],
    }
)


def test_not_null_counts_nulls_and_nan() -> None:
    assert checks.not_null("id").evaluate(TABLE) is None
    assert checks.not_null("delay").evaluate(TABLE) == "delay has 2 null(s)"
    assert checks.not_null("nope").evaluate(TABLE) == "missing column(s) nope"


def test_unique_names_a_duplicated_key() -> None:
    assert checks.unique("origin").evaluate(TABLE) is None
    assert checks.unique("id").evaluate(TABLE) == "1 duplicated key(s), e.g. {'id': 2}"


def test_row_count_bounds() -> None:
    assert checks.row_count(min=1, max=3).evaluate(TABLE) is None
    assert checks.row_count(min=4).evaluate(TABLE) == "3 rows, fewer than the minimum 4"
    assert checks.row_count(max=2).evaluate(TABLE) == "3 rows, more than the maximum 2"


def test_accepted_values_lists_what_is_not_accepted() -> None:
    check = checks.accepted_values("origin", ["EWR", "JFK"])
    assert check.evaluate(TABLE) == "1 value(s) of origin not accepted, e.g. XXX"
    assert checks.accepted_values("origin", ["EWR", "JFK", "XXX"]).evaluate(TABLE) is None


def test_expect_columns_compares_types_with_aliases() -> None:
    assert checks.expect_columns({"id": "int64", "origin": "string"}).evaluate(TABLE) is None
    problem = checks.expect_columns({"id": "string", "when": "int"}).evaluate(TABLE)
    assert problem == "id is int64, expected string; missing column when"


def test_a_callable_is_a_check_on_a_dataframe_or_arrow() -> None:
    def positive(frame) -> bool:
        return bool((frame["id"] > 0).all())

    def small(table: pa.Table) -> bool:
        assert isinstance(table, pa.Table)
        return table.num_rows < 2

    assert checks.as_check(positive).name == "positive"
    assert checks.as_check(positive).evaluate(TABLE) is None
    assert checks.as_check(small).evaluate(TABLE) == "returned False"
    warn = checks.expect(small, name="fewer than two", severity="warn")
    assert (warn.name, warn.severity) == ("fewer than two", "warn")


def test_severity_is_validated_and_non_callables_refused() -> None:
    with pytest.raises(ValueError, match="severity must be 'error' or 'warn'"):
        checks.row_count(min=1, severity="fatal")
    with pytest.raises(TypeError, match="checks= takes"):
        checks.as_check(42)
