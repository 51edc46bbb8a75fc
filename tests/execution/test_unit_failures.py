"""A failed unit's outcome: its traceback is kept (secrets masked, bounded), and the
worker that ran a job is named."""

from __future__ import annotations

import os
from types import SimpleNamespace

from partita import secrets
from partita.execution.unit import TRACEBACK_CHARS, failed_outcome, worker_id
from partita.processes import this_host

JOB = SimpleNamespace(asset="flights", partition="2013-01-01")


def _fail(message: str) -> None:
    raise ValueError(message)


def _outcome_of(message: str):
    try:
        _fail(message)
    except ValueError as error:
        return failed_outcome(JOB, error)  # type: ignore[arg-type]
    raise AssertionError("did not fail")


def test_the_traceback_is_kept_with_secrets_masked(monkeypatch) -> None:
    monkeypatch.setattr(secrets, "_secrets", set())
    secrets.register("hunter2-password")
    outcome = _outcome_of("login with hunter2-password refused")
    assert outcome.traceback.startswith("Traceback (most recent call last):")
    assert "in _fail" in outcome.traceback
    assert "ValueError: login with *** refused" in outcome.traceback
    assert "hunter2" not in outcome.traceback
    assert "hunter2" not in outcome.error


def test_a_long_traceback_keeps_its_end() -> None:
    outcome = _outcome_of("x" * (TRACEBACK_CHARS * 2) + " the end")
    assert len(outcome.traceback) == TRACEBACK_CHARS
    assert outcome.traceback.rstrip().endswith("the end")


def test_the_worker_is_this_host_and_process() -> None:
    assert worker_id() == f"{this_host()}:{os.getpid()}"
