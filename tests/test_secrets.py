"""`${VAR}` interpolation and masking of the values it reads."""

from __future__ import annotations

import logging

import pytest

from partita import secrets


def test_interpolation_reads_variables_and_registers_them_as_secrets() -> None:
    environ = {"TOKEN_A": "tok-aaaa-1111", "USER": "x"}
    value = secrets.interpolate(
        {"url": "https://x:${TOKEN_A}@h/", "list": ["${USER}", 3], "raw": "$${TOKEN_A}"},
        environ,
    )
    assert value == {"url": "https://x:tok-aaaa-1111@h/", "list": ["x", 3], "raw": "${TOKEN_A}"}
    assert secrets.mask("failed with tok-aaaa-1111!") == "failed with ***!"
    assert secrets.mask("user x") == "user x"  # too short to mask ordinary text


def test_an_unset_variable_is_named() -> None:
    with pytest.raises(secrets.MissingVariableError) as caught:
        secrets.interpolate("a ${NOT_SET_ANYWHERE} b", {})
    assert caught.value.variable == "NOT_SET_ANYWHERE"


def test_log_records_are_masked_including_tracebacks(caplog) -> None:
    secrets.interpolate("${PW}", {"PW": "pw-9876-zyx"})
    logger = logging.getLogger("partita.test_secrets")
    with caplog.at_level(logging.INFO, logger="partita.test_secrets"):
        try:
            raise ValueError("login pw-9876-zyx refused")
        except ValueError:
            logger.exception("connecting with %s", "pw-9876-zyx")
    text = caplog.text
    assert "connecting with ***" in text
    assert "login *** refused" in text
    assert "pw-9876-zyx" not in text
