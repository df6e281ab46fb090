"""Retry timing: exponential backoff with full jitter, dead-lettered after the last allowed attempt."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from schemas.notification import Notification
from services.notify.backoff import (
    RetryPolicy,
    after_failure,
    backoff_ceiling,
    next_attempt_at,
    should_dead_letter,
)

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(1, 30.0), (2, 60.0), (3, 120.0), (7, 1920.0), (8, 3600.0), (500, 3600.0)]
)
def test_ceiling_doubles_per_attempt_up_to_the_maximum(attempt: int, ceiling: float) -> None:
    """30 s, 60 s, 120 s ... capped at an hour, even for absurd attempt counts."""
    assert backoff_ceiling(attempt, base_seconds=30, max_seconds=3600) == ceiling


def test_attempt_numbers_start_at_one() -> None:
    """Zero attempts made is not a failure to back off from."""
    with pytest.raises(ValueError, match="starts at 1"):
        backoff_ceiling(0, base_seconds=30, max_seconds=3600)


def test_next_attempt_falls_between_now_and_the_ceiling() -> None:
    """Full jitter: anywhere in [now, now + ceiling]."""
    rng = random.Random(7)
    delays = [(next_attempt_at(3, NOW, 30, 3600, rng) - NOW).total_seconds() for _ in range(500)]

    assert all(0.0 <= delay <= 120.0 for delay in delays)
    assert min(delays) < 20.0
    assert max(delays) > 100.0


def test_jitter_spreads_retries_of_the_same_attempt() -> None:
    """Notifications failing together do not all retry at the same instant."""
    rng = random.Random(11)

    assert len({next_attempt_at(2, NOW, 30, 3600, rng) for _ in range(20)}) == 20


def test_same_seed_gives_the_same_schedule() -> None:
    """The random source is the only source of variation."""
    first = [next_attempt_at(n, NOW, 30, 3600, random.Random(3)) for n in range(1, 6)]
    again = [next_attempt_at(n, NOW, 30, 3600, random.Random(3)) for n in range(1, 6)]

    assert first == again


def test_dead_letter_once_the_last_allowed_attempt_failed() -> None:
    """With five attempts allowed, the fifth failure is final."""
    assert not should_dead_letter(4, max_attempts=5)
    assert should_dead_letter(5, max_attempts=5)
    assert should_dead_letter(6, max_attempts=5)


def test_after_a_failure_that_may_be_retried_the_attempt_waits_for_the_backoff(notification: Notification) -> None:
    """Goes to notifications.retry, not before now + jittered delay, with the transport error."""
    outcome = after_failure(
        notification,
        2,
        "SMTP server answered 451",
        NOW,
        RetryPolicy(base_seconds=30, max_seconds=3600, max_attempts=5),
        random.Random(1),
    )

    assert not outcome.dead
    assert outcome.attempt.attempt == 2
    assert NOW <= outcome.attempt.not_before <= NOW + timedelta(seconds=60)
    assert outcome.attempt.last_error == "SMTP server answered 451"
    assert outcome.attempt.notification == notification


def test_after_the_last_failure_the_attempt_is_dead_lettered_with_a_bounded_error(notification: Notification) -> None:
    """Goes to notifications.dead; the error is cut to the schema's 500 characters."""
    outcome = after_failure(notification, 5, "x" * 900, NOW, RetryPolicy(max_attempts=5), random.Random(1))

    assert outcome.dead
    assert outcome.attempt.not_before == NOW
    assert outcome.attempt.last_error == "x" * 500


def test_permanent_failure_is_dead_lettered_on_the_first_attempt(notification: Notification) -> None:
    """A refused recipient will be refused again; no point waiting an hour to find out."""
    outcome = after_failure(
        notification,
        1,
        "SMTP server refused the recipient (codes [550])",
        NOW,
        RetryPolicy(max_attempts=5),
        random.Random(1),
        permanent=True,
    )

    assert outcome.dead
