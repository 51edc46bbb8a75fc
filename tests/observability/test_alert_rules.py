"""Parsing [tool.partita.alerts]: defaults, every channel, and errors for people."""

from __future__ import annotations

import pytest

from partita.errors import ProjectError
from partita.observability.alerts.rules import (
    AlertKind,
    Channel,
    ChannelKind,
    parse_alert_settings,
)

WHERE = "pyproject.toml"


def test_rules_smtp_and_delivery_settings() -> None:
    settings = parse_alert_settings(
        {
            "attempts": 5,
            "backoff_seconds": 0.5,
            "smtp": {"host": "mail", "port": 587, "from": "p@x.org", "starttls": True},
            "rules": [
                {"when": "unit_failed", "channel": {"webhook": "https://h.example/x"}},
                {
                    "name": "thin",
                    "when": "volume",
                    "select": "+orders",
                    "min_rows": 1,
                    "max_deviation": 0.5,
                    "history": 5,
                    "channel": {"email": "ops@x.org"},
                },
                {"when": "slow", "max_seconds": 60, "channel": {"command": "notify"}},
            ],
        },
        WHERE,
    )
    assert (settings.attempts, settings.backoff_seconds) == (5, 0.5)
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.sender) == (
        "mail",
        587,
        "p@x.org",
    )
    assert settings.smtp.starttls and settings.smtp.username_env == "PARTITA_SMTP_USERNAME"
    failed, thin, slow = settings.rules
    assert (failed.name, failed.when, failed.select) == (
        "unit_failed-1",
        AlertKind.UNIT_FAILED,
        None,
    )
    assert (thin.select, thin.min_rows, thin.max_deviation, thin.history) == (
        ("+orders",),
        1,
        0.5,
        5,
    )
    assert slow.channel == Channel(ChannelKind.COMMAND, "notify")


def test_channels_are_described_without_secrets() -> None:
    assert Channel(ChannelKind.WEBHOOK, "https://hooks.example/T0/SECRET").describe() == (
        "webhook hooks.example"
    )
    assert Channel(ChannelKind.COMMAND, "curl -H 'token: x' ...").describe() == "command"
    assert Channel(ChannelKind.EMAIL, "ops@x.org").describe() == "email ops@x.org"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"rules": [{"when": "oops", "channel": {}}]}, "when = 'oops' is not one of unit_failed"),
        ({"rules": [{"when": "run_failed"}]}, 'channel must be one of { webhook = "URL" }'),
        (
            {"rules": [{"when": "run_failed", "channel": {"sms": "1"}}]},
            "channel 'sms' is not webhook, email or command",
        ),
        ({"rules": [{"when": "slow", "channel": {"command": "x"}}]}, "needs max_seconds = N"),
        ({"rules": [{"when": "volume", "channel": {"command": "x"}}]}, "needs min_rows, max_rows"),
        (
            {"rules": [{"when": "run_failed", "channel": {"command": "x"}, "selct": []}]},
            "unknown key(s) selct",
        ),
        (
            {
                "rules": [
                    {"name": "a", "when": "run_failed", "channel": {"command": "x"}},
                    {"name": "a", "when": "unit_failed", "channel": {"command": "x"}},
                ]
            },
            "alert rule name(s) a are used twice",
        ),
        ({"attempts": 0}, "attempts must be at least 1"),
        ({"smtp": {"port": "25"}}, "port must be a number"),
        ({"rules": {"when": "x"}}, "must be an array of tables"),
        ({"rule": []}, "unknown key(s) rule"),
    ],
)
def test_invalid_settings_are_clear_errors(table: dict, message: str) -> None:
    with pytest.raises(ProjectError) as caught:
        parse_alert_settings(table, WHERE)
    assert message in str(caught.value)
    assert str(caught.value).startswith(WHERE)
