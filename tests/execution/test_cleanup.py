"""Cleanup steps never replace the error that made them run."""

from __future__ import annotations

import pytest

from partita.execution.cleanup import cleanup_step


def test_an_error_on_its_way_out_wins_and_carries_the_cleanup_error_as_a_note() -> None:
    with pytest.raises(ValueError, match="the unit failed") as raised:
        try:
            raise ValueError("the unit failed")
        finally:
            with cleanup_step("release the leases"):
                raise OSError("database or disk is full")
    assert raised.value.__notes__ == [
        "While cleaning up, could not release the leases: database or disk is full"
    ]


def test_with_no_error_on_its_way_out_the_cleanup_error_propagates() -> None:
    with pytest.raises(OSError, match="disk is full"), cleanup_step("release the leases"):
        raise OSError("database or disk is full")


def test_ctrl_c_during_cleanup_is_never_swallowed() -> None:
    with pytest.raises(KeyboardInterrupt):
        try:
            raise ValueError("the unit failed")
        finally:
            with cleanup_step("stop the workers"):
                raise KeyboardInterrupt
