"""Notify's delivery record: intents give re-run attempts the same time, so the same audit event."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from schemas.audit import AuditEvent
from schemas.codec import decode
from schemas.notification import Notification, NotificationAttempt
from services.notify.backoff import RetryPolicy
from services.notify.dispatch import DeliveryRecord, attempt_result, plan_delivery, record_attempt

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
NOTE = Notification(
    notification_id="n1",
    kind="assignment",
    channel="email",
    referral_id="r1",
    service="sada",
    priority="high",
    due_at=T0,
    flags=[],
    link="http://x/",
    source_id="d1",
    created_at=T0,
)
LATER = T0 + timedelta(minutes=7)


def done_record(*steps: str) -> DeliveryRecord:
    """A record in which each of `steps` was attempted (sent) at T0."""
    record = DeliveryRecord()
    for step in steps:
        record, _ = record_attempt(
            record.with_intents([step], T0), step, NOTE, 1, None, "r1", RetryPolicy(), random.Random(1)
        )
    return record


def audit_of(messages: list, topic: str = "audit.events") -> AuditEvent:
    return decode(next(m.value for m in messages if m.topic == topic).encode(), AuditEvent)


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


def test_a_redelivered_step_whose_attempt_is_done_is_not_attempted_again() -> None:
    """A step found done makes no new send: it is only replayed."""
    plan = plan_delivery(done_record("n1"), ["n1"], LATER)
    assert plan.attempts == []


def test_a_redelivered_done_step_replays_the_messages_it_produced() -> None:
    """The done attempt's stored messages (its audit event) are what goes out again."""
    record = done_record("n1")
    plan = plan_delivery(record, ["n1"], LATER)
    assert [d.step for d in plan.replay] == ["n1"] and plan.replay[0].messages == record.done[0].messages


def test_a_redelivered_done_step_records_no_new_intent() -> None:
    """Nothing to attempt means nothing to store or flush before sending."""
    record = done_record("n1")
    plan = plan_delivery(record, ["n1"], LATER)
    assert plan.new_intents is False and plan.record == record


def test_only_the_steps_not_yet_done_are_attempted() -> None:
    """In a batch with one done step and one new step, only the new step is attempted, with an intent."""
    plan = plan_delivery(done_record("n1"), ["n1", "n2"], LATER)
    assert plan.attempts == ["n2"] and [d.step for d in plan.replay] == ["n1"]
    assert plan.new_intents is True and plan.record.intents == {"n2": LATER}


def test_a_new_step_is_attempted_with_an_intent_timed_now() -> None:
    """A first delivery records an intent at the time given, to be stored before the send."""
    plan = plan_delivery(DeliveryRecord(), ["n1", "n2"], T0)
    assert plan.attempts == ["n1", "n2"] and plan.replay == []
    assert plan.new_intents is True and plan.record.intents == {"n1": T0, "n2": T0}


def test_a_step_with_an_intent_but_no_done_attempt_keeps_its_first_intent_time() -> None:
    """Killed between intent and record: the re-run is attempted again under its original intent."""
    plan = plan_delivery(DeliveryRecord().with_intents(["n1"], T0), ["n1"], LATER)
    assert plan.attempts == ["n1"] and plan.record.intents == {"n1": T0} and plan.new_intents is False


def test_an_attempt_is_recorded_at_its_intent_time_not_the_time_it_runs() -> None:
    """A re-run minutes after the intent gives an audit event at the intent's time."""
    plan = plan_delivery(DeliveryRecord().with_intents(["n1"], T0), ["n1"], LATER)
    _, result = record_attempt(plan.record, "n1", NOTE, 1, None, "r1", RetryPolicy(), random.Random(1))
    assert audit_of(result.messages).occurred_at == T0


def test_a_failed_attempt_schedules_its_retry_from_the_intent_time() -> None:
    """The retry's backoff counts from the intent, so a re-run schedules the same retry."""
    policy = RetryPolicy(base_seconds=10, max_seconds=10, max_attempts=3)
    record = DeliveryRecord().with_intents(["n1"], T0)
    _, result = record_attempt(record, "n1", NOTE, 1, ("timed out", "timeout", False), "r1", policy, random.Random(1))
    retry = decode(result.messages[0].value.encode(), NotificationAttempt)
    assert audit_of(result.messages).occurred_at == T0 and T0 <= retry.not_before <= T0 + timedelta(seconds=10)


def test_a_recorded_attempt_is_done_and_its_intent_cleared() -> None:
    """After the attempt the record holds it as done, with its messages and the chain head moved on."""
    record = DeliveryRecord().with_intents(["n1", "n2"], T0)
    after, result = record_attempt(record, "n1", NOTE, 1, None, "r1", RetryPolicy(), random.Random(1))
    assert after.done_step("n1") is not None and after.done_step("n1").messages == result.messages
    assert after.intents == {"n2": T0} and after.head == result.head and after.head.seq == 1
