"""Alert rules as declared in `[tool.partita.alerts]`: parsed and validated once.

```toml
[tool.partita.alerts]
attempts = 3            # delivery attempts per channel and message
backoff_seconds = 1.0   # waits 1 s, then 2 s, ... between attempts

[tool.partita.alerts.smtp]
host = "smtp.example.com"
port = 587
from = "partita@example.com"
starttls = true
username_env = "SMTP_USERNAME"   # credentials are read from these variables
password_env = "SMTP_PASSWORD"

[[tool.partita.alerts.rules]]
when = "unit_failed"
select = ["+carrier_delays"]
channel = { webhook = "https://hooks.example.com/${HOOK_TOKEN}" }
```
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from ...errors import ProjectError


class AlertKind(StrEnum):
    """What a rule watches (its `when`)."""

    UNIT_FAILED = "unit_failed"  # a unit failed after its retries
    RUN_FAILED = "run_failed"
    CHECK_FAILED = "check_failed"
    OVERDUE = "overdue"  # freshness verdict
    VOLUME = "volume"  # rows out of bounds or far from the asset's recent history
    SLOW = "slow"  # a unit took longer than max_seconds


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    COMMAND = "command"


@dataclass(frozen=True)
class Channel:
    """Where a rule's alerts go: a webhook URL, an email address or a shell command.
    `${VAR}` in the target is read from the environment when sending."""

    kind: ChannelKind
    target: str

    def describe(self) -> str:
        """The channel without secrets: a URL's host only, never a command's arguments."""
        if self.kind == ChannelKind.WEBHOOK:
            host = urlsplit(self.target).hostname or "?"
            return f"webhook {host}"
        if self.kind == ChannelKind.COMMAND:
            return "command"
        return f"email {self.target}"


@dataclass(frozen=True)
class AlertRule:
    """One `[[tool.partita.alerts.rules]]` table."""

    name: str
    when: AlertKind
    channel: Channel
    select: tuple[str, ...] | None = None
    min_rows: float | None = None  # volume: bounds on a partition's rows
    max_rows: float | None = None
    max_deviation: float | None = None  # volume: |rows - median| / median of history
    history: int = 10  # volume: how many recent materializations make the history
    max_seconds: float | None = None  # slow


@dataclass(frozen=True)
class SmtpSettings:
    """`[tool.partita.alerts.smtp]`; credentials come from the named variables."""

    host: str = "localhost"
    port: int = 25
    sender: str = "partita@localhost"
    starttls: bool = False
    ssl: bool = False
    username_env: str = "PARTITA_SMTP_USERNAME"
    password_env: str = "PARTITA_SMTP_PASSWORD"
    timeout: float = 10.0


@dataclass(frozen=True)
class AlertSettings:
    """Every rule, the SMTP server and how delivery retries."""

    rules: tuple[AlertRule, ...]
    smtp: SmtpSettings
    attempts: int = 3
    backoff_seconds: float = 1.0


_RULE_KEYS = {
    "name",
    "when",
    "channel",
    "select",
    "min_rows",
    "max_rows",
    "max_deviation",
    "history",
    "max_seconds",
}
_SMTP_KEYS = {"host", "port", "from", "starttls", "ssl", "username_env", "password_env", "timeout"}


def parse_alert_settings(table: Mapping[str, Any], where: str) -> AlertSettings:
    """The `[tool.partita.alerts]` table of the file `where`, validated; every problem is a
    `ProjectError` naming the key."""
    if not isinstance(table, Mapping):
        raise ProjectError(f"{where}: [tool.partita.alerts] must be a table.")
    _unknown(
        table, {"rules", "smtp", "attempts", "backoff_seconds"}, f"{where} [tool.partita.alerts]"
    )
    rules_table = table.get("rules", [])
    if not isinstance(rules_table, list):
        raise ProjectError(
            f"{where}: tool.partita.alerts.rules must be an array of tables: "
            "write [[tool.partita.alerts.rules]]."
        )
    rules = tuple(_rule(rule, index, where) for index, rule in enumerate(rules_table, 1))
    names = [rule.name for rule in rules]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ProjectError(
            f"{where}: alert rule name(s) {', '.join(duplicates)} are used twice; "
            "give each [[tool.partita.alerts.rules]] its own name."
        )
    attempts = _number(table, "attempts", 3, f"{where} [tool.partita.alerts]", minimum=1)
    backoff = _number(table, "backoff_seconds", 1.0, f"{where} [tool.partita.alerts]")
    return AlertSettings(rules, _smtp(table.get("smtp", {}), where), int(attempts), backoff)


def _rule(table: Any, index: int, where: str) -> AlertRule:
    label = f"{where}: alert rule {index}"
    if not isinstance(table, Mapping):
        raise ProjectError(f"{label} must be a table.")
    _unknown(table, _RULE_KEYS, label)
    when = table.get("when")
    if when not in set(AlertKind):
        raise ProjectError(
            f"{label}: when = {when!r} is not one of {', '.join(AlertKind)}; set it to one."
        )
    kind = AlertKind(when)
    name = table.get("name", f"{kind}-{index}")
    if not isinstance(name, str) or not name or ":" in name:
        raise ProjectError(f"{label}: name must be a non-empty text without ':'.")
    label = f"{where}: alert rule '{name}'"
    select = table.get("select")
    if select is not None:
        if isinstance(select, str):
            select = [select]
        if not isinstance(select, list) or not all(isinstance(s, str) for s in select):
            raise ProjectError(f"{label}: select must be a list of selections, e.g. ['+orders'].")
        select = tuple(select)
    rule = AlertRule(
        name=name,
        when=kind,
        channel=_channel(table.get("channel"), label),
        select=select,
        min_rows=_optional(table, "min_rows", label),
        max_rows=_optional(table, "max_rows", label),
        max_deviation=_optional(table, "max_deviation", label),
        history=int(_number(table, "history", 10, label, minimum=1)),
        max_seconds=_optional(table, "max_seconds", label),
    )
    _check_thresholds(rule, label)
    return rule


def _check_thresholds(rule: AlertRule, label: str) -> None:
    if rule.when == AlertKind.SLOW and rule.max_seconds is None:
        raise ProjectError(f"{label}: a 'slow' rule needs max_seconds = N.")
    if rule.when == AlertKind.VOLUME and (
        rule.min_rows is None and rule.max_rows is None and rule.max_deviation is None
    ):
        raise ProjectError(
            f"{label}: a 'volume' rule needs min_rows, max_rows and/or max_deviation "
            "(a fraction of the median of the asset's recent partitions, e.g. 0.5)."
        )


def _channel(value: Any, label: str) -> Channel:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ProjectError(
            f'{label}: channel must be one of {{ webhook = "URL" }}, '
            f'{{ email = "ADDRESS" }} or {{ command = "..." }}.'
        )
    ((kind, target),) = value.items()
    if kind not in set(ChannelKind) or not isinstance(target, str) or not target:
        raise ProjectError(
            f"{label}: channel {kind!r} is not webhook, email or command with a text value."
        )
    return Channel(ChannelKind(kind), target)


def _smtp(table: Any, where: str) -> SmtpSettings:
    label = f"{where} [tool.partita.alerts.smtp]"
    if not isinstance(table, Mapping):
        raise ProjectError(f"{label} must be a table.")
    _unknown(table, _SMTP_KEYS, label)
    defaults = SmtpSettings()
    values = {
        "host": table.get("host", defaults.host),
        "port": int(_number(table, "port", defaults.port, label, minimum=1)),
        "sender": table.get("from", defaults.sender),
        "starttls": bool(table.get("starttls", defaults.starttls)),
        "ssl": bool(table.get("ssl", defaults.ssl)),
        "username_env": table.get("username_env", defaults.username_env),
        "password_env": table.get("password_env", defaults.password_env),
        "timeout": _number(table, "timeout", defaults.timeout, label),
    }
    for key in ("host", "sender", "username_env", "password_env"):
        if not isinstance(values[key], str):
            raise ProjectError(f"{label}: {key} must be a text.")
    return SmtpSettings(**values)


def _unknown(table: Mapping[str, Any], known: set[str], label: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ProjectError(
            f"{label} has unknown key(s) {', '.join(unknown)}; "
            f"the keys are {', '.join(sorted(known))}."
        )


def _number(
    table: Mapping[str, Any], key: str, default: float, label: str, minimum: float = 0
) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProjectError(f"{label}: {key} must be a number, not {value!r}.")
    if value < minimum:
        raise ProjectError(f"{label}: {key} must be at least {minimum:g}, not {value!r}.")
    return value


def _optional(table: Mapping[str, Any], key: str, label: str) -> float | None:
    return None if key not in table else _number(table, key, 0, label)
