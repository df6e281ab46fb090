"""When a failed notification is tried again: exponential backoff with full jitter, then dead-letter.

`attempt` counts the attempts already made: after the first failed send it is 1. Pure: the time and the
random source are arguments.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from schemas.notification import Notification, NotificationAttempt

LAST_ERROR_LIMIT = 500
"""`NotificationAttempt.last_error` holds at most this many characters."""


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 30.0
    max_seconds: float = 3600.0
    max_attempts: int = 8


def backoff_ceiling(attempt: int, base_seconds: float, max_seconds: float) -> float:
    """`base * 2**(attempt - 1)`, capped at `max_seconds` (the upper bound of the jittered delay)."""
    if attempt < 1:
        raise ValueError("attempt counts attempts made and starts at 1")
    exponent = min(attempt - 1, 62)
    return float(min(max_seconds, base_seconds * 2**exponent))


def next_attempt_at(
    attempt: int, now: datetime, base_seconds: float, max_seconds: float, rng: random.Random
) -> datetime:
    """`now` plus a delay drawn uniformly from [0, ceiling] ("full jitter")."""
    ceiling = backoff_ceiling(attempt, base_seconds, max_seconds)
    return now + timedelta(seconds=rng.uniform(0.0, ceiling))


def should_dead_letter(attempt: int, max_attempts: int) -> bool:
    """True once `attempt` attempts have been made and that was the last one allowed."""
    return attempt >= max_attempts


class AfterFailure(NamedTuple):
    """What to do with a notification whose send just failed."""

    dead: bool
    """True: put `attempt` on `notifications.dead`; False: on `notifications.retry`."""

    attempt: NotificationAttempt


def after_failure(
    notification: Notification,
    attempt: int,
    error: str,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
    *,
    permanent: bool = False,
) -> AfterFailure:
    """The retry (or dead letter) record for a notification whose `attempt`-th send failed with `error`.

    `error` must be a transport message (a `DeliveryError`'s), never personal data. A `permanent` failure
    (the peer refused the request itself) is dead-lettered at once: retrying cannot help.
    """
    last_error = error[:LAST_ERROR_LIMIT]
    if permanent or should_dead_letter(attempt, policy.max_attempts):
        return AfterFailure(
            True, NotificationAttempt(notification=notification, attempt=attempt, not_before=now, last_error=last_error)
        )
    not_before = next_attempt_at(attempt, now, policy.base_seconds, policy.max_seconds, rng)
    return AfterFailure(
        False,
        NotificationAttempt(notification=notification, attempt=attempt, not_before=not_before, last_error=last_error),
    )
