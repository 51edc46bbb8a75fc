"""Canonical form, over generated Arrow data: what a storage accepts reads back exactly as
`canonical` said, and any sequence of partitions the writer accepts reads back as one
table (issue 17, points 2 and 4)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partita.errors import InvalidDataError
from partita.execution.quality import SchemaDriftError, check_schema
from partita.storage.canonical import type_names
from partita.storage.registry import open_storage
from partita.storage.schemas import unify_schemas

from .conftest import DECLARATIONS
from .conftest import LOCAL_REPLACING as REPLACING

UNITS = ["s", "ms", "us", "ns"]
ZONES = [None, "UTC", "America/New_York", "Asia/Kolkata"]
SECONDS = st.integers(-2_000_000_000, 2_000_000_000)  # 1906 to 2033: fits every unit


def _scale(unit: str) -> int:
    return {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]


def timestamps(unit: str, tz: str | None):
    return st.lists(st.none() | SECONDS, max_size=4).map(
        lambda values: pa.array(
            [None if v is None else v * _scale(unit) for v in values], pa.timestamp(unit, tz)
        )
    )


def times():
    day = st.none() | st.integers(0, 86_399)
    return st.sampled_from([("s", 32), ("ms", 32), ("us", 64), ("ns", 64)]).flatmap(
        lambda kind: st.lists(day, max_size=4).map(
            lambda values: pa.array(
                [None if v is None else v * _scale(kind[0]) for v in values],
                pa.time32(kind[0]) if kind[1] == 32 else pa.time64(kind[0]),
            )
        )
    )


def dates():
    days = st.lists(st.none() | st.integers(-40_000, 40_000), max_size=4)
    return days.flatmap(
        lambda values: st.sampled_from(
            [
                pa.array(values, pa.date32()),
                pa.array([None if v is None else v * 86_400_000 for v in values], pa.date64()),
            ]
        )
    )


def texts():
    values = st.lists(st.none() | st.text(max_size=5), max_size=4)
    return values.flatmap(
        lambda items: st.sampled_from(
            [
                pa.array(items, pa.string()),
                pa.array(items, pa.large_string()),
                pa.array(items, pa.string()).dictionary_encode(),
            ]
        )
    )


def plain():
    return st.one_of(
        st.lists(st.none() | st.integers(-(2**40), 2**40), max_size=4).map(
            lambda v: pa.array(v, pa.int64())
        ),
        st.lists(st.none() | st.integers(0, 2**31), max_size=4).map(
            lambda v: pa.array(v, pa.uint32())
        ),
        st.lists(st.none() | st.floats(allow_nan=False), max_size=4).map(
            lambda v: pa.array(v, pa.float64())
        ),
        st.lists(st.none() | st.booleans(), max_size=4).map(lambda v: pa.array(v, pa.bool_())),
        st.lists(st.none() | st.integers(-(10**8), 10**8), max_size=4).map(
            lambda v: pa.array(v, pa.int64()).cast(pa.decimal128(20, 0))
        ),
        st.lists(st.none() | st.binary(max_size=4), max_size=4).flatmap(
            lambda v: st.sampled_from([pa.array(v, pa.binary()), pa.array(v, pa.large_binary())])
        ),
    )


def columns():
    zoned = st.sampled_from([(u, z) for u in UNITS for z in ZONES]).flatmap(
        lambda kind: timestamps(*kind)
    )
    return st.one_of(zoned, times(), dates(), texts(), plain())


@st.composite
def tables(draw) -> pa.Table:
    """A table of 1 to 4 columns of one length, some of them lists."""
    arrays = draw(st.lists(columns(), min_size=1, max_size=4))
    length = min(len(array) for array in arrays)
    chosen = []
    for array in arrays:
        array = array.slice(0, length)
        if draw(st.booleans()) and not pa.types.is_dictionary(array.type):
            # Each value its own one-item list, as a list or a large list.
            offsets = pa.array(range(length + 1), pa.int32())
            array = pa.ListArray.from_arrays(offsets, array)
            if draw(st.booleans()):
                array = array.cast(pa.large_list(array.type.value_type))
        chosen.append(array)
    return pa.Table.from_arrays(chosen, names=[f"c{i}" for i in range(len(chosen))])


def fresh_storage(kind: str, folder: str):
    return open_storage(DECLARATIONS[kind], Path(folder), "generated", "date")


@pytest.mark.parametrize("kind", REPLACING)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables())
def test_what_is_written_reads_back_as_its_canonical_form(kind: str, table: pa.Table) -> None:
    with tempfile.TemporaryDirectory() as folder:
        storage = fresh_storage(kind, folder)
        canonical = storage.canonical(table)
        assert storage.canonical(canonical).equals(canonical)  # idempotent
        first = storage.write("2024-01-01", table)
        read = storage.read(["2024-01-01"])
        assert type_names(read.schema) == type_names(canonical.schema)
        assert read.equals(canonical)
        # The data version is the canonical data's: the same whatever the input types.
        assert storage.write("2024-01-01", canonical).data_version == first.data_version
        assert storage.write("2024-01-01", read).data_version == first.data_version


def _accepted(storage, partition: str, table: pa.Table, published) -> pa.Table | None:
    """The canonical table if the writer (storage and the schema test before it) takes it."""
    try:
        canonical = storage.canonical(table, partition)
        check_schema("unit", "here", published, canonical.schema, evolve=False)
    except (InvalidDataError, SchemaDriftError):
        return None
    storage.write(partition, canonical)
    return canonical


@pytest.mark.parametrize("kind", REPLACING)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partitions=st.lists(st.one_of(columns()), min_size=1, max_size=5))
def test_every_sequence_of_accepted_partitions_reads_as_one_table(
    kind: str, partitions: list[pa.Array]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        storage = fresh_storage(kind, folder)
        accepted, published = [], None
        for number, array in enumerate(partitions):
            table = pa.table({"v": array})
            canonical = _accepted(storage, f"p{number}", table, published)
            if canonical is not None:
                accepted.append(canonical)
                published = unify_schemas([published, canonical.schema])
        read = storage.read(None)  # never refuses what was accepted
        expected = pa.concat_tables(accepted, promote_options="default")
        assert read.column("v").to_pylist() == expected.column("v").to_pylist()
