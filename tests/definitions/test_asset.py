"""The `@asset` decorator, `AssetDep`, the code-version hash, and the policy objects."""

from __future__ import annotations

import importlib.util
import itertools
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import partita
from partita import (
    AssetDep,
    DailyPartitions,
    DuckDB,
    FreshnessPolicy,
    Parquet,
    Retry,
    StaticPartitions,
    asset,
)
from partita.definitions.asset import ASSET_OPTIONS, AssetDefinition, source_hash

# The public API


def test_public_api_is_importable_from_partita() -> None:
    names = [
        "asset",
        "AssetDep",
        "HourlyPartitions",
        "DailyPartitions",
        "WeeklyPartitions",
        "MonthlyPartitions",
        "StaticPartitions",
        "Parquet",
        "DuckDB",
        "FreshnessPolicy",
        "Retry",
        "AssetContext",
        "PermanentError",
        "load_project",
    ]
    for name in names:
        assert hasattr(partita, name), name
        assert name in partita.__all__, name
    assert issubclass(partita.PermanentError, Exception)


# The decorator


def test_bare_decorator_uses_defaults_and_docstring() -> None:
    @asset
    def daily_flights():
        """Every flight of the day.

        Second paragraph."""
        return 42

    assert isinstance(daily_flights, AssetDefinition)
    assert daily_flights.name == "daily_flights"
    assert daily_flights.storage == Parquet()
    assert daily_flights.partitions is None
    assert daily_flights.freshness is None
    assert daily_flights.retry is None
    assert daily_flights.group == "default"
    assert dict(daily_flights.tags) == {}
    assert daily_flights.deps == ()
    assert daily_flights.problems == ()
    assert daily_flights.description == "Every flight of the day.\n\nSecond paragraph."
    assert daily_flights.file == __file__
    assert daily_flights.module == __name__
    assert daily_flights.location.endswith(f"test_asset.py:{daily_flights.line}")


def test_decorated_function_is_still_callable() -> None:
    @asset
    def doubled(x=2):
        return x * 2

    assert doubled() == 4
    assert doubled(5) == 10
    assert doubled(x=7) == 14


def test_decorator_with_every_keyword() -> None:
    days = DailyPartitions("2013-01-01", "2013-02-01")
    storage = DuckDB(table="t", merge_on=["id"])
    freshness = FreshnessPolicy("6h")
    retry = Retry(max_attempts=5)

    def not_null(frame):
        return True

    @asset(
        name="renamed",
        deps=["upstream"],
        partitions=days,
        storage=storage,
        freshness=freshness,
        retry=retry,
        watermark="time_hour",
        code_version="v7",
        checks=[not_null],
        description="Explicit description.",
        group="metrics",
        tags={"source": "x"},
    )
    def original():
        """The docstring loses to description=."""

    assert original.name == "renamed"
    assert [dep.name for dep in original.deps] == ["upstream"]
    assert original.partitions is days
    assert original.storage == storage
    assert original.storage.merge_on == ("id",)
    assert original.freshness is freshness
    assert original.retry is retry
    assert original.watermark == "time_hour"
    assert original.code_version == "v7"
    assert [check.name for check in original.checks] == ["not_null"]
    assert original.description == "Explicit description."
    assert original.group == "metrics"
    assert dict(original.tags) == {"source": "x"}
    assert original.problems == ()


def test_without_docstring_the_description_is_empty() -> None:
    @asset()
    def bare():
        return 1

    assert bare.description == ""
    assert bare.problems == ()


def test_unknown_keyword_is_recorded_not_raised() -> None:
    @asset(colour="red", sizes=3)
    def painted():
        pass

    assert len(painted.problems) == 1
    problem = painted.problems[0]
    assert "unknown keyword(s) colour, sizes" in problem
    for option in ASSET_OPTIONS:  # the message lists the valid keywords
        assert option in problem


@pytest.mark.parametrize("name", ["bad-name", "1st", "class", "with space", "naïve-é"])
def test_invalid_names_are_recorded(name: str) -> None:
    @asset(name=name)
    def placeholder():
        pass

    assert placeholder.name == name
    assert any("not a valid Python identifier" in p for p in placeholder.problems)
    assert any(repr(name) in p for p in placeholder.problems)


def test_wrong_types_are_recorded() -> None:
    @asset(storage="parquet", partitions=["a"], freshness="6h", retry=3, deps=[42])
    def wrong():
        pass

    text = "\n".join(wrong.problems)
    assert "storage= must be Parquet() or DuckDB(...)" in text
    assert "partitions= must be" in text
    assert "freshness= must be a FreshnessPolicy" in text
    assert "retry= must be a Retry" in text
    assert "deps= takes asset names" in text
    assert wrong.partitions is None
    assert wrong.freshness is None
    assert wrong.retry is None


def test_decorating_a_non_callable_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="decorates a function"):
        asset(name="x")(42)


# Dependencies


def test_deps_accept_names_decorated_functions_plain_functions_and_asset_deps() -> None:
    @asset
    def raw():
        pass

    def plain_function():
        pass

    @asset(deps=["by_name", raw, plain_function, AssetDep("windowed", offset=(-6, 0))])
    def downstream():
        pass

    assert [dep.name for dep in downstream.deps] == [
        "by_name",
        "raw",
        "plain_function",
        "windowed",
    ]
    assert downstream.deps[1].asset is raw
    assert downstream.deps[3].offset == (-6, 0)
    assert all(dep.offset is None for dep in downstream.deps[:3])
    assert downstream.problems == ()


def test_a_single_dep_need_not_be_a_list() -> None:
    @asset
    def raw():
        pass

    @asset(deps="raw")
    def by_name():
        pass

    @asset(deps=raw)
    def by_function():
        pass

    @asset(deps=AssetDep(raw, offset=(-1, 0)))
    def by_dep():
        pass

    assert [d.name for d in by_name.deps] == ["raw"]
    assert [d.name for d in by_function.deps] == ["raw"]
    assert [(d.name, d.offset) for d in by_dep.deps] == [("raw", (-1, 0))]


def test_asset_dep_name_follows_a_renamed_asset() -> None:
    @asset(name="public_name")
    def private_function():
        pass

    assert AssetDep(private_function).name == "public_name"
    assert AssetDep("x").name == "x"


def test_parameters_record_defaults_and_context() -> None:
    @asset
    def with_params(context, raw, limit=10, *args, **kwargs):
        pass

    assert [(p.name, p.has_default) for p in with_params.parameters] == [
        ("context", False),
        ("raw", False),
        ("limit", True),
    ]
    assert with_params.wants_context

    @asset
    def without_context(raw):
        pass

    assert not without_context.wants_context


# code_version

_COUNTER = itertools.count()


def _load_function(directory: Path, source: str):
    """Import `source` as a fresh module file and return its function `f`."""
    path = directory / f"version_{next(_COUNTER)}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


BASE = '''
from partita import asset

@asset
def f(flights):
    """Count flights."""
    total = flights + 1
    return total * 2
'''

LAYOUT_EDITS = [
    # a comment, a changed docstring, extra blank lines and spacing
    '''
from partita import asset

@asset
def f(flights):
    """A completely different docstring."""
    # a comment
    total = flights+1   # trailing comment


    return total*2
''',
    # no docstring, arguments split over lines, parenthesised expression
    """
from partita import asset

@asset(
)
def f(
    flights,
):
    total = (flights
             + 1)
    return (total * 2)
""",
    # nested at a different indentation
    '''
from partita import asset

if True:
    @asset
    def f(flights):
        """Indented."""
        total = flights + 1
        return total * 2
''',
]

BODY_EDITS = [
    BASE.replace("flights + 1", "flights + 2"),
    BASE.replace("total * 2", "total * 3"),
    BASE.replace("    return total * 2", "    total -= 1\n    return total * 2"),
    BASE.replace("def f(flights)", "def f(flights, scale=1)"),
]


def test_layout_only_edits_keep_the_code_version(tmp_path: Path) -> None:
    base = _load_function(tmp_path, BASE).code_version
    assert len(base) == 16
    for source in LAYOUT_EDITS:
        assert _load_function(tmp_path, source).code_version == base, source


def test_body_edits_change_the_code_version(tmp_path: Path) -> None:
    base = _load_function(tmp_path, BASE).code_version
    versions = {_load_function(tmp_path, source).code_version for source in BODY_EDITS}
    assert base not in versions
    assert len(versions) == len(BODY_EDITS)


def test_explicit_code_version_wins(tmp_path: Path) -> None:
    pinned = BASE.replace("@asset\n", '@asset(code_version="2024-01")\n')
    edited = pinned.replace("flights + 1", "flights + 99")
    assert _load_function(tmp_path, pinned).code_version == "2024-01"
    assert _load_function(tmp_path, edited).code_version == "2024-01"


comment_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    comments=st.lists(comment_text, min_size=3, max_size=3),
    blank_lines=st.lists(st.integers(0, 2), min_size=3, max_size=3),
    docstring=st.one_of(st.none(), st.text(alphabet="abc xyz.", max_size=30)),
    spaces=st.integers(0, 3),
    increment=st.integers(1, 50),
)
def test_hash_ignores_comments_docstrings_and_layout(
    tmp_path: Path,
    comments: list[str],
    blank_lines: list[int],
    docstring: str | None,
    spaces: int,
    increment: int,
) -> None:
    def render(*, decorate: bool, body_constant: int) -> str:
        pad = " " * spaces
        lines = ["from partita import asset", ""]
        lines.append("@asset" if not decorate else "@asset()  # " + comments[0])
        lines.append("def f(flights):")
        if decorate and docstring is not None:
            lines.append(f"    {docstring!r}")
        lines += ["" for _ in range(blank_lines[0])]
        lines.append(f"    total = flights{pad}+{pad}{body_constant}")
        if decorate:
            lines.append(f"    # {comments[1]}")
        lines += ["" for _ in range(blank_lines[1])]
        lines.append(f"    return total{pad}*{pad}2" + (f"  # {comments[2]}" if decorate else ""))
        lines += ["" for _ in range(blank_lines[2])]
        return "\n".join(lines) + "\n"

    plain = _load_function(tmp_path, render(decorate=False, body_constant=increment))
    noisy = _load_function(tmp_path, render(decorate=True, body_constant=increment))
    changed = _load_function(tmp_path, render(decorate=True, body_constant=increment + 1))
    assert noisy.code_version == plain.code_version
    assert changed.code_version != plain.code_version


def test_source_hash_falls_back_when_source_is_unavailable() -> None:
    namespace: dict = {}
    exec("def f(x):\n    return x + 1\n", namespace)
    exec("def g(x):\n    return x + 2\n", namespace)
    first, second = source_hash(namespace["f"]), source_hash(namespace["g"])
    assert len(first) == 16
    assert first != second
    assert source_hash(namespace["f"]) == first


# Policies


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("6h", timedelta(hours=6)),
        ("2d", timedelta(days=2)),
        ("45s", timedelta(seconds=45)),
        ("1w", timedelta(weeks=1)),
        (" 1.5h ", timedelta(minutes=90)),
        (timedelta(hours=3), timedelta(hours=3)),
        (120, timedelta(minutes=2)),
    ],
)
def test_freshness_policy_reads_durations(text, expected: timedelta) -> None:
    assert FreshnessPolicy(text).max_lag == expected
    assert FreshnessPolicy(max_lag=text).max_lag == expected


@pytest.mark.parametrize("text", ["", "6", "six hours", "6 hours", "6y", "-5m", "h6", "6h30m"])
def test_freshness_policy_rejects_bad_strings(text: str) -> None:
    with pytest.raises(ValueError, match=r"cannot read the duration .*'30m', '6h' or '2d'"):
        FreshnessPolicy(text)


def test_freshness_policy_is_a_value() -> None:
    assert FreshnessPolicy("60m") == FreshnessPolicy("1h")
    assert FreshnessPolicy("1h") != FreshnessPolicy("2h")


def test_retry_defaults_and_delays() -> None:
    retry = Retry()
    assert retry.max_attempts == 3
    assert [retry.delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert retry.delay(20) == 60.0  # capped at max_delay

    custom = Retry(max_attempts=5, initial_delay=0.5, backoff=3.0, max_delay=10.0)
    assert [custom.delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.5, 4.5, 10.0]
    assert Retry(initial_delay=2.0, backoff=1.0).delay(7) == 2.0
    assert Retry(initial_delay=0.0).delay(3) == 0.0


@given(
    initial=st.floats(0, 100),
    backoff=st.floats(1, 10),
    maximum=st.floats(0, 1000),
    attempt=st.integers(1, 30),
)
def test_retry_delay_grows_and_is_capped(
    initial: float, backoff: float, maximum: float, attempt: int
) -> None:
    retry = Retry(initial_delay=initial, backoff=backoff, max_delay=maximum)
    assert 0 <= retry.delay(attempt) <= maximum
    assert retry.delay(attempt) <= retry.delay(attempt + 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_attempts": 0}, "at least 1"),
        ({"max_attempts": -3}, "at least 1"),
        ({"initial_delay": -1.0}, "delays must be >= 0"),
        ({"max_delay": -0.5}, "delays must be >= 0"),
        ({"backoff": 0.5}, "backoff >= 1"),
    ],
)
def test_retry_rejects_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Retry(**kwargs)


def test_static_partitions_on_an_asset_are_kept() -> None:
    regions = StaticPartitions(["eu", "us"])

    @asset(partitions=regions)
    def by_region():
        pass

    assert by_region.partitions is regions
    assert by_region.problems == ()


def test_source_hash_of_a_dedented_method_matches_a_top_level_function(tmp_path: Path) -> None:
    nested = textwrap.dedent(
        """
        from partita import asset

        def factory():
            @asset
            def f(flights):
                total = flights + 1
                return total * 2
            return f

        f = factory()
        """
    )
    assert (
        _load_function(tmp_path, nested).code_version == _load_function(tmp_path, BASE).code_version
    )
