"""Notify's delivery record: intents give re-run attempts the same time, so the same audit event."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from schemas.notification import Notification
from services.notify.backoff import RetryPolicy
from services.notify.dispatch import DeliveryRecord, attempt_result

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
NOTE = Notification(notification_id="n1", kind="assignment", channel="email", referral_id="r1", service="sada",
                    priority="high", due_at=T0, flags=[], link="http://x/", source_id="d1", created_at=T0)


def test_an_attempt_re_run_from_its_intent_gives_the_identical_audit_event() -> None:
    """Killed after sending but before recording: the re-run's event equals the first (no chain fork)."""
    record = DeliveryRecord().with_intents(["n1"], T0)
    first = attempt_result(NOTE, 1, None, record.intents["n1"], record.head, "r1", RetryPolicy(), random.Random(1))
    again = attempt_result(NOTE, 1, None, record.intents["n1"], record.head, "r1", RetryPolicy(), random.Random(2))
    assert first.messages == again.messages and first.outcomes == ["sent"]
    assert record.with_intents(["n1"], datetime(2030, 1, 1, tzinfo=UTC)).intents["n1"] == T0


def test_a_failure_goes_to_retry_then_to_the_dead_letter_topic_at_the_last_attempt() -> None:
    """Retryable failures are retried until the configured attempts run out; permanent ones die at once."""
    policy = RetryPolicy(base_seconds=1, max_seconds=2, max_attempts=3)
    head = DeliveryRecord().head
    retried = attempt_result(NOTE, 1, ("timed out", "timeout", False), T0, head, "r1", policy, random.Random(1))
    assert [m.topic for m in retried.messages] == ["notifications.retry", "audit.events"] and not retried.dead
    last = attempt_result(NOTE, 3, ("timed out", "timeout", False), T0, head, "r1", policy, random.Random(1))
    assert last.dead and last.messages[0].topic == "notifications.dead"
    refused = attempt_result(NOTE, 1, ("refused", "refused", True), T0, head, "r1", policy, random.Random(1))
    assert refused.dead and refused.outcomes == ["failed", "dead_lettered"]


def test_done_attempts_are_remembered_with_their_messages() -> None:
    """A redelivered notification finds its attempt done and the messages to send again."""
    record = DeliveryRecord().with_intents(["n1"], T0)
    result = attempt_result(NOTE, 1, None, T0, record.head, "r1", RetryPolicy(), random.Random(1))
    done = record.with_done("n1", result.messages, result.head)
    assert done.done_step("n1") is not None and done.done_step("n1").messages == result.messages
    assert "n1" not in done.intents and done.head.seq == 1
