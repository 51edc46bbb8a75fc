"""Delivering one alert through one channel, retried with backoff; never raising.

A webhook gets the alert as JSON (POST) with a Slack-compatible `text` field; an email goes
through the SMTP server of `[tool.partita.alerts.smtp]` with credentials from environment
variables; a command gets the JSON on its standard input (a non-zero exit is a failure).
`${VAR}` in a channel's target is replaced from the environment when sending, and the
targets (which may hold tokens) never appear in what is recorded or logged. The network
and mail modules load when an alert is sent, not with every session.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...catalog.records import NotificationRecord
from .rules import Channel, ChannelKind, SmtpSettings

log = logging.getLogger("partita")

TIMEOUT_SECONDS = 10.0
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class DeliveryError(Exception):
    """A channel refused or could not be reached; the message names no secret."""


@dataclass(frozen=True)
class Delivery:
    """How to deliver: attempts, backoff, the SMTP server, the environment, a sleep."""

    smtp: SmtpSettings
    attempts: int = 3
    backoff_seconds: float = 1.0
    environment: Mapping[str, str] | None = None
    sleep: Callable[[float], None] = time.sleep

    def send(self, channel: Channel, alert: Mapping[str, Any]) -> NotificationRecord:
        """Send `alert` through `channel`, retrying failures with doubling waits; the
        outcome (delivered or the last error) as a notification to record."""
        error: str | None = None
        attempt = 0
        for attempt in range(1, self.attempts + 1):
            try:
                self._send_once(channel, alert)
                error = None
                break
            except DeliveryError as failure:
                error = str(failure)
                log.warning(
                    "alert %s through %s failed (attempt %d/%d): %s",
                    alert.get("rule"),
                    channel.describe(),
                    attempt,
                    self.attempts,
                    error,
                )
                if attempt < self.attempts:
                    self.sleep(self.backoff_seconds * 2 ** (attempt - 1))
        return NotificationRecord(
            event=str(alert["event"]),
            channel=channel.describe(),
            sent=datetime.now(UTC),
            delivered=error is None,
            attempts=attempt,
            error=error,
        )

    def _send_once(self, channel: Channel, alert: Mapping[str, Any]) -> None:
        target = self._expand(channel.target)
        if channel.kind == ChannelKind.WEBHOOK:
            post_webhook(target, alert)
        elif channel.kind == ChannelKind.EMAIL:
            send_email(self.smtp, target, alert, self._environment())
        else:
            run_command(target, alert)

    def _environment(self) -> Mapping[str, str]:
        return os.environ if self.environment is None else self.environment

    def _expand(self, text: str) -> str:
        environment = self._environment()

        def value(match: re.Match[str]) -> str:
            if match.group(1) not in environment:
                raise DeliveryError(f"the environment variable {match.group(1)} is not set")
            return environment[match.group(1)]

        return _VARIABLE.sub(value, text)


def post_webhook(url: str, alert: Mapping[str, Any]) -> None:
    """POST the alert as JSON; any status outside 2xx is a failure."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url,
        data=json.dumps(alert).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            response.read()
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"the webhook answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"the webhook could not be reached: {type(reason).__name__}") from None


def send_email(
    smtp: SmtpSettings, address: str, alert: Mapping[str, Any], environment: Mapping[str, str]
) -> None:
    """Send the alert's text to `address`, logging in when the credential variables are set."""
    import smtplib
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = address
    title = str(alert["title"])
    message["Subject"] = title if len(title) <= 150 else title[:149] + "…"
    message.set_content(f"{alert['text']}\n\n{json.dumps(alert, indent=2)}\n")
    connect = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
    try:
        with connect(smtp.host, smtp.port, timeout=smtp.timeout) as server:
            if smtp.starttls:
                server.starttls()
            username = environment.get(smtp.username_env)
            if username:
                server.login(username, environment.get(smtp.password_env, ""))
            server.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        code = getattr(error, "smtp_code", None)
        detail = f"SMTP {code}" if code else type(error).__name__
        raise DeliveryError(f"the mail server {smtp.host}:{smtp.port} refused: {detail}") from None


def run_command(command: str, alert: Mapping[str, Any]) -> None:
    """Run `command` in a shell with the alert as JSON on its standard input."""
    try:
        completed = subprocess.run(
            command,
            shell=True,
            input=json.dumps(alert).encode(),
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DeliveryError(f"the command could not run: {type(error).__name__}") from None
    if completed.returncode != 0:
        raise DeliveryError(f"the command exited with status {completed.returncode}")
