"""Retries: backoff, logging, attempts recorded; permanent errors and wrong return types
are not retried."""

from __future__ import annotations

import logging

import pytest

from partita import Retry
from partita.app.requests import RunRequest
from partita.app.session import Session
from partita.catalog import open_catalog
from partita.execution.retries import call_with_retry, is_retryable

from . import NOW

FLAKY = """
import pathlib

import pandas as pd
from partita import PermanentError, Retry, asset

COUNTER = pathlib.Path(__file__).parent / "calls.txt"


def count_call() -> int:
    calls = int(COUNTER.read_text()) + 1 if COUNTER.exists() else 1
    COUNTER.write_text(str(calls))
    return calls


@asset(retry=Retry(max_attempts=3, initial_delay=0.01, jitter=False))
def flaky():
    if count_call() < 3:
        raise ConnectionError("network blip")
    return pd.DataFrame({"ok": [1]})


@asset
def reader(flaky):
    return flaky


@asset(retry=Retry(max_attempts=3, initial_delay=0.01, jitter=False))
def permanent():
    count_call()
    raise PermanentError("the input file is corrupt")


@asset(retry=Retry(max_attempts=3, initial_delay=0.01, jitter=False))
def wrong_type():
    count_call()
    return {"ok": [1]}


@asset(retry=Retry(max_attempts=4, initial_delay=0.01, backoff=3, max_delay=0.05, jitter=False))
def always_failing():
    count_call()
    raise TimeoutError("still down")
"""


def calls(project) -> int:
    return int((project.root / "assets" / "calls.txt").read_text())


def run(project, selection, sleep=lambda seconds: None):
    loaded = project.load()
    with Session(loaded.config, loaded.graph, sleep=sleep) as session:
        return session.run(RunRequest(selection=(selection,), now=NOW, command="test"))


def test_a_flaky_asset_passes_on_its_third_attempt(project, caplog) -> None:
    project.write("assets/flaky.py", FLAKY)
    with caplog.at_level(logging.WARNING, logger="partita"):
        report = project.load().materialize(["flaky+"], now=NOW)
    flaky, reader = report.results
    assert (flaky.asset, flaky.status, flaky.attempts, flaky.error) == (
        "flaky",
        "materialized",
        3,
        None,
    )
    assert (reader.asset, reader.status) == ("reader", "materialized")
    assert calls(project) == 3
    retries = [r.getMessage() for r in caplog.records if r.name == "partita"]
    assert len(retries) == 2
    assert "flaky failed on attempt 1/3 (ConnectionError: network blip)" in retries[0]
    assert "attempt 2/3" in retries[1]
    with open_catalog(project.warehouse) as catalog:
        [record] = catalog.history("flaky")
    assert record.attempts == 3
    assert record.status == "materialized"


def test_backoff_delays_grow_and_are_capped(project) -> None:
    project.write("assets/flaky.py", FLAKY)
    slept: list[float] = []
    report = run(project, "always_failing", sleep=slept.append)
    [result] = report.results
    assert result.status == "failed"
    assert result.attempts == 4
    assert calls(project) == 4
    assert result.error == "asset 'always_failing' failed: TimeoutError: still down"
    assert slept == pytest.approx([0.01, 0.03, 0.05])
    with open_catalog(project.warehouse) as catalog:
        [record] = catalog.history("always_failing")
    assert (record.status, record.attempts) == ("failed", 4)


def test_a_permanent_error_is_not_retried(project) -> None:
    project.write("assets/flaky.py", FLAKY)
    slept: list[float] = []
    report = run(project, "permanent", sleep=slept.append)
    [result] = report.results
    assert result.status == "failed"
    assert result.attempts == 1
    assert calls(project) == 1
    assert slept == []
    assert "the input file is corrupt" in result.error
    assert "asset 'permanent'" in result.error


def test_a_wrong_return_type_fails_naming_asset_and_type_without_retry(project) -> None:
    project.write("assets/flaky.py", FLAKY)
    slept: list[float] = []
    report = run(project, "wrong_type", sleep=slept.append)
    [result] = report.results
    assert result.status == "failed"
    assert result.attempts == 1
    assert calls(project) == 1
    assert slept == []
    assert "asset 'wrong_type'" in result.error
    assert "builtins.dict" in result.error
    assert "DataFrame" in result.error
    assert not (project.warehouse / "wrong_type").exists()


def test_jitter_shortens_the_delay_by_at_most_half() -> None:
    policy = Retry(max_attempts=3, initial_delay=1.0, backoff=2.0, jitter=True)
    slept: list[float] = []
    outcomes = iter([OSError("a"), OSError("b")])

    def action():
        error = next(outcomes, None)
        if error:
            raise error
        return "done"

    result = call_with_retry(
        action, policy, describe="x", log=logging.getLogger("test"), sleep=slept.append
    )
    assert result == "done"
    assert len(slept) == 2
    assert 0.5 <= slept[0] <= 1.0
    assert 1.0 <= slept[1] <= 2.0


def test_the_last_error_is_reraised_after_the_last_attempt() -> None:
    attempts: list[int] = []

    def action():
        raise OSError(f"failure {len(attempts)}")

    with pytest.raises(OSError, match="failure 2"):
        call_with_retry(
            action,
            Retry(max_attempts=2, initial_delay=0, jitter=False),
            describe="x",
            log=logging.getLogger("test"),
            sleep=lambda seconds: None,
            on_attempt=attempts.append,
        )
    assert attempts == [1, 2]


def test_no_policy_means_one_attempt() -> None:
    attempts: list[int] = []

    def action():
        raise OSError("once")

    with pytest.raises(OSError):
        call_with_retry(
            action,
            None,
            describe="x",
            log=logging.getLogger("test"),
            sleep=lambda seconds: None,
            on_attempt=attempts.append,
        )
    assert attempts == [1]


def test_which_errors_are_retryable() -> None:
    from partita import PermanentError
    from partita.errors import InvalidDataError, PartitionError, StorageError
    from partita.execution.io import OutputTypeError

    assert is_retryable(ConnectionError("x"))
    assert is_retryable(StorageError("disk full"))
    assert not is_retryable(PermanentError("x"))
    assert not is_retryable(OutputTypeError("x"))
    assert not is_retryable(InvalidDataError("duplicate merge keys"))
    assert not is_retryable(PartitionError("bad key"))
