"""Converting between the catalog's records and its SQLite rows (text keys, JSON, ISO times)."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from partita.catalog.records import (
    ConsumedInput,
    MaterializationRecord,
    PartitionState,
    RunRecord,
    StateRow,
)
from partita.catalog.sqlite.schema import UNPARTITIONED

_JSON_DECODER = json.JSONDecoder()

STATE_COLUMNS = """
    asset, partition, last_status, data_version, code_version, inputs,
    materialized_at, last_attempt_at, watermark, rows, error,
    published_seq, consumed_seq, seq, deps_version, restored
"""

# The fields of `StateRow`, in its order (see `snapshot_and_changes`).
STATE_ROW_COLUMNS = f"""
    nullif(partition, '{UNPARTITIONED}'), last_status, data_version IS NOT NULL, code_version,
    published_seq, consumed_seq, materialized_at, seq, deps_version, restored
"""

HISTORY_COLUMNS = """
    asset, partition, run_id, status, started, finished, attempts,
    rows, bytes, data_version, code_version, inputs, watermark, error, restored,
    traceback, worker
"""

RUN_COLUMNS = "run_id, command, started, finished, status, counts, pid"


@contextmanager
def garbage_collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many objects that hold no cycles.

    Its repeated passes over the growing set of new objects cost about 40% of reading
    100k partition states.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def partition_to_text(partition: str | None) -> str:
    return UNPARTITIONED if partition is None else partition


def partition_from_text(partition: str) -> str | None:
    return None if partition == UNPARTITIONED else partition


def inputs_to_json(inputs: Sequence[ConsumedInput]) -> str:
    return json.dumps(
        [[item.asset, item.partition, item.data_version] for item in inputs],
        separators=(",", ":"),
    )


def inputs_from_json(text: str) -> tuple[ConsumedInput, ...]:
    if text == "[]":
        return ()
    # raw_decode skips json.loads' whitespace checks: a third of the time of reading 100k states.
    return tuple([ConsumedInput(*item) for item in _JSON_DECODER.raw_decode(text)[0]])


def state_rows(rows: Iterable[Sequence[Any]]) -> list[StateRow]:
    """`StateRow`s of rows selected as `STATE_ROW_COLUMNS` (`has_data` is SQLite's 1 or 0,
    which equal True and False).

    `tuple.__new__` skips the NamedTuple's Python-level constructor: it builds millions of
    rows when the planner rebuilds a snapshot.
    """
    new = tuple.__new__
    with garbage_collection_paused():
        return [new(StateRow, row) for row in rows]


def states_from_rows(rows: Sequence[Sequence[Any]]) -> dict[str, dict[str | None, PartitionState]]:
    """States by asset and partition, of rows selected as `STATE_COLUMNS`."""
    result: dict[str, dict[str | None, PartitionState]] = {}
    with garbage_collection_paused():
        for row in rows:
            state = _state_from_row(row)
            result.setdefault(row[0], {})[state.partition] = state
    return result


def _datetime_or_none(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _state_from_row(row: Sequence[Any]) -> PartitionState:
    (
        _asset,
        partition,
        last_status,
        data_version,
        code_version,
        inputs,
        materialized_at,
        last_attempt_at,
        watermark,
        rows,
        error,
        published_seq,
        consumed_seq,
        seq,
        deps_version,
        restored,
    ) = row
    last_attempt = datetime.fromisoformat(last_attempt_at)
    # After a success both times are the same text: parse it once.
    if materialized_at == last_attempt_at:
        materialized = last_attempt
    else:
        materialized = _datetime_or_none(materialized_at)
    return PartitionState(
        partition=partition_from_text(partition),
        last_status=last_status,
        data_version=data_version,
        code_version=code_version,
        inputs=inputs_from_json(inputs),
        materialized_at=materialized,
        last_attempt_at=last_attempt,
        watermark=watermark,
        rows=rows,
        error=error,
        published_seq=published_seq,
        consumed_seq=consumed_seq,
        seq=seq,
        deps_version=deps_version,
        restored=bool(restored),
    )


def history_from_row(row: Sequence[Any]) -> MaterializationRecord:
    """An attempt, of a row selected as `HISTORY_COLUMNS`."""
    (
        asset,
        partition,
        run_id,
        status,
        started,
        finished,
        attempts,
        rows,
        size,
        data_version,
        code_version,
        inputs,
        watermark,
        error,
        restored,
        traceback,
        worker,
    ) = row
    return MaterializationRecord(
        asset=asset,
        partition=partition_from_text(partition),
        run_id=run_id,
        status=status,
        started=datetime.fromisoformat(started),
        finished=datetime.fromisoformat(finished),
        attempts=attempts,
        rows=rows,
        bytes=size,
        data_version=data_version,
        code_version=code_version,
        inputs=inputs_from_json(inputs),
        watermark=watermark,
        error=error,
        restored=bool(restored),
        traceback=traceback,
        worker=worker,
    )


def run_from_row(row: Sequence[Any]) -> RunRecord:
    """A run, of a row selected as `RUN_COLUMNS`."""
    run_id, command, started, finished, status, counts, pid = row
    return RunRecord(
        run_id=run_id,
        command=command,
        started=datetime.fromisoformat(started),
        finished=_datetime_or_none(finished),
        status=status,
        counts=json.loads(counts),
        pid=pid,
    )


def sql_limit(limit: int | None) -> int:
    """A LIMIT that SQLite and PostgreSQL both read as `limit` rows, or all of them."""
    return 2**63 - 1 if limit is None else limit
