"""Notify's delivery record: the attempts of a message, recorded with the messages they produced."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from schemas.codec import decode
from schemas.notification import Notification
from services.notify.backoff import RetryPolicy
from services.notify.dispatch import DeliveryRecord, attempt_result, split_done

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


def test_an_attempt_re_run_before_it_was_recorded_takes_the_same_chain_position() -> None:
    """Killed after sending but before recording: the re-run's event follows the same head as the first
    would have (which never reached the broker), so the chain does not fork."""
    record = DeliveryRecord()
    first = attempt_result(NOTE, 1, None, T0, record.head, "r1", RetryPolicy(), random.Random(1))
    again = attempt_result(
        NOTE, 1, None, datetime(2030, 1, 1, tzinfo=UTC), record.head, "r1", RetryPolicy(), random.Random(2)
    )
    assert first.head.seq == again.head.seq == 1 and first.outcomes == ["sent"]


def test_a_record_stored_with_intents_still_decodes() -> None:
    """Values stored when intents were written before each attempt are read; the intent is passed over."""
    stored = b'{"head": {"seq": 0, "hash": "' + b"0" * 64 + b'"}, "intents": {"n1": "2026-11-26T10:00:00Z"}}'
    record = decode(stored, DeliveryRecord)
    assert record.done_step("n1") is None and record.head == DeliveryRecord().head


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
    record = DeliveryRecord()
    result = attempt_result(NOTE, 1, None, T0, record.head, "r1", RetryPolicy(), random.Random(1))
    done = record.with_done("n1", result.messages, result.head)
    assert done.done_step("n1") is not None and done.done_step("n1").messages == result.messages
    assert done.head.seq == 1


def test_a_done_step_is_never_attempted_again_and_its_messages_are_replayed() -> None:
    """Of a redelivered message's steps, the done ones only re-send what they produced; the rest are attempted."""
    first = attempt_result(NOTE, 1, None, T0, DeliveryRecord().head, "r1", RetryPolicy(), random.Random(1))
    record = DeliveryRecord().with_done("n1", first.messages, first.head)
    replay, todo = split_done(record, ["n1", "n2"])
    assert todo == ["n2"]
    assert replay == first.messages


def test_nothing_done_means_every_step_is_attempted_in_order() -> None:
    """A first delivery replays nothing and attempts each step once, in the order given."""
    assert split_done(DeliveryRecord(), ["n2", "n1"]) == ([], ["n2", "n1"])
