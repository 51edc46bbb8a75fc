"""Bounded retries with exponential backoff for one unit of work."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import TypeVar

from ..definitions.policies import NO_RETRY, Retry
from ..errors import PartitaError, PermanentError

T = TypeVar("T")


def is_retryable(error: BaseException) -> bool:
    """Transient failures are retried; `PermanentError`, wrong return types and
    definition or usage problems are not."""
    if isinstance(error, PermanentError | TypeError):
        return False
    return not (isinstance(error, PartitaError) and error.exit_code == 2)


def call_with_retry(
    action: Callable[[], T],
    policy: Retry | None,
    *,
    describe: str,
    log: logging.Logger,
    sleep: Callable[[float], None],
    on_attempt: Callable[[int], None] = lambda attempt: None,
) -> T:
    """Run `action` up to `policy.max_attempts` times; re-raise the last error.

    `on_attempt(n)` is called before attempt n, so the caller always knows how many
    attempts were made, including when the last one raises.
    """
    policy = policy or NO_RETRY
    attempt = 1
    while True:
        on_attempt(attempt)
        try:
            return action()
        except Exception as error:
            if attempt >= policy.max_attempts or not is_retryable(error):
                raise
            delay = policy.delay(attempt)
            if policy.jitter:
                delay *= random.uniform(0.5, 1.0)
            log.warning(
                "%s failed on attempt %d/%d (%s: %s); retrying in %.2f s",
                describe,
                attempt,
                policy.max_attempts,
                type(error).__name__,
                error,
                delay,
            )
            sleep(delay)
            attempt += 1
