"""Notify's handlers called alone, with a fake service object: a table as a dict, topics that record and a
sender that records (or fails) instead of a peer."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry

from schemas.audit import AuditEvent
from schemas.codec import decode
from schemas.decision import TriageDecision
from schemas.escalation import Escalation
from schemas.notification import Notification, NotificationAttempt, NotificationChannel
from services.notify.adapters.channels import DeliveryError, DeliveryFailure
from services.notify.agents import notify_decision, notify_escalation, notify_outcome
from services.notify.dispatch import DeliveryRecord
from services.notify.metrics import NotifyMetrics
from services.notify.routing import NotifyRouting
from services.notify.settings import NotifySettings
from tests.support.fake_topics import RecordingTopic


@dataclass
class RecordingSender:
    fail: DeliveryError | None = None
    delivered: list[Notification] = field(default_factory=list)

    async def send(self, n: Notification) -> None:
        if self.fail is not None:
            raise self.fail
        self.delivered.append(n)


@dataclass
class Flushes:
    count: int = 0

    async def flush(self) -> None:
        self.count += 1


def fake_notify(routing: NotifyRouting, sender: RecordingSender) -> Any:
    return SimpleNamespace(
        settings=NotifySettings(),
        app=SimpleNamespace(producer=Flushes()),
        metrics=NotifyMetrics.create(CollectorRegistry()),
        routing=routing,
        senders=SimpleNamespace(for_channel=lambda channel: sender),
        sent={},
        retried={},
        rng=random.Random(0),
        partners_told=frozenset({"dev-police"}),
        partner_outcomes={f"referrals.outcomes.{p}": RecordingTopic() for p in ("dev-police", "dev-school")},
        **{name: RecordingTopic() for name in ("audit", "retry", "dead")},
    )


async def test_a_decision_is_sent_once_per_assignment_and_channel_and_a_redelivery_sends_nothing_again(
    routing: NotifyRouting, decision: TriageDecision
) -> None:
    sender = RecordingSender()
    notify = fake_notify(routing, sender)

    await notify_decision(decision, notify)
    delivered = [(n.service.value, n.channel) for n in sender.delivered]
    assert sorted(delivered) == [
        ("no_more", NotificationChannel.email),
        ("sada", NotificationChannel.email),
        ("sada", NotificationChannel.webhook),
    ]
    record = decode(notify.sent[decision.referral_id.encode()], DeliveryRecord)
    assert len(record.done) == 3
    assert notify.app.producer.count == 1  # the record is on the broker before its audit events go out
    audited = list(notify.audit.sent)
    assert {decode(v, AuditEvent).action for _, v in audited} == {"notified"}

    await notify_decision(decision, notify)  # redelivered: no second send, the same audit events again
    assert len(sender.delivered) == 3
    assert notify.audit.sent == audited + audited
    assert notify.retry.sent == [] and notify.dead.sent == []


async def test_a_failed_escalation_is_recorded_and_goes_to_the_retry_topic(
    routing: NotifyRouting, escalation: Escalation
) -> None:
    sender = RecordingSender(fail=DeliveryError("timed out", DeliveryFailure.timeout))
    notify = fake_notify(routing, sender)

    await notify_escalation(escalation, notify)

    [(key, value)] = notify.retry.sent
    retry = decode(value, NotificationAttempt)
    assert key == escalation.referral_id.encode()
    assert retry.attempt == 1 and retry.notification.source_id == escalation.escalation_id
    assert escalation.referral_id.encode() in notify.sent
    assert notify.dead.sent == []


async def test_an_outcome_goes_once_to_a_partner_with_a_webhook_and_to_no_other(routing: NotifyRouting) -> None:
    """The outcome's id is the notification's (the receiver's Idempotency-Key); a redelivery sends nothing
    again; a partner without an outcomes webhook polls instead, so nothing is sent for it."""
    from datetime import UTC, datetime

    from schemas.outcome import OutcomeKind, ReferralOutcome

    at = datetime(2026, 11, 26, 10, tzinfo=UTC)
    outcome = ReferralOutcome(
        outcome_id="o-1",
        referral_id="r-1",
        partner_id="dev-police",
        seq=1,
        kind=OutcomeKind.declined,
        service="sada",
        priority="high",
        due_at=at,
        occurred_at=at,
        reason_code="no_capacity",
    )
    sender = RecordingSender()
    notify = fake_notify(routing, sender)
    await notify_outcome(outcome, notify)
    await notify_outcome(outcome, notify)
    await notify_outcome(outcome.model_copy(update={"outcome_id": "o-2", "partner_id": "dev-school"}), notify)
    assert [(n.notification_id, n.kind.value, n.channel, n.outcome) for n in sender.delivered] == [
        ("o-1", "outcome", NotificationChannel.webhook, outcome)
    ]
    assert {decode(v, AuditEvent).action for _, v in notify.audit.sent} == {"notified"}


async def test_each_outcome_goes_to_its_partner_s_own_topic_only_recorded_before_it_is_sent(
    routing: NotifyRouting,
) -> None:
    """Forwarded to `referrals.outcomes.<partner>` keyed by referral id, webhook or not; recorded in the same
    table write as the webhook's attempt; a redelivery re-sends the recorded copy (at-least-once, the same
    outcome_id); a partner not in the access file gets nothing, and a warning says so."""
    from datetime import UTC, datetime

    from schemas.outcome import OutcomeKind, ReferralOutcome

    at = datetime(2026, 11, 26, 10, tzinfo=UTC)
    outcome = ReferralOutcome(
        outcome_id="o-1",
        referral_id="r-1",
        partner_id="dev-police",
        seq=1,
        kind=OutcomeKind.claimed,
        service="sada",
        priority="high",
        due_at=at,
        occurred_at=at,
    )
    notify = fake_notify(routing, RecordingSender())
    police, school = (
        notify.partner_outcomes["referrals.outcomes.dev-police"],
        notify.partner_outcomes["referrals.outcomes.dev-school"],
    )
    await notify_outcome(outcome, notify)
    [(key, value)] = police.sent
    assert key == b"r-1" and decode(value, ReferralOutcome) == outcome
    record = decode(notify.sent[b"r-1"], DeliveryRecord)
    assert {d.step for d in record.done} == {"o-1", "o-1:partner-topic"}, "one write for webhook and copy"
    assert notify.app.producer.count == 1

    polled = outcome.model_copy(update={"outcome_id": "o-2", "referral_id": "r-2", "partner_id": "dev-school"})
    await notify_outcome(polled, notify)  # no webhook for this partner: its topic only
    assert [decode(v, ReferralOutcome).outcome_id for _, v in school.sent] == ["o-2"]
    assert len(police.sent) == 1

    await notify_outcome(outcome, notify)  # redelivered: the recorded copy again, under the same outcome_id
    assert [decode(v, ReferralOutcome).outcome_id for _, v in police.sent] == ["o-1", "o-1"]

    gone = outcome.model_copy(update={"outcome_id": "o-3", "referral_id": "r-3", "partner_id": "dev-gone"})
    await notify_outcome(gone, notify)
    assert len(police.sent) == 2 and len(school.sent) == 1
    assert b"r-3" not in notify.sent, "nothing to record: no webhook, no topic"


async def test_a_withdrawal_of_an_accepted_item_goes_to_its_team_and_to_the_partner_once_each(
    routing: NotifyRouting,
) -> None:
    """The team hears once per channel, the partner once; a redelivery sends nothing again; a partner that
    polls gets nothing but the team is still told."""
    from datetime import UTC, datetime

    from schemas.outcome import OutcomeKind, ReferralOutcome, WithdrawnState

    at = datetime(2026, 11, 26, 10, tzinfo=UTC)
    outcome = ReferralOutcome(
        outcome_id="o-9",
        referral_id="r-1",
        partner_id="dev-police",
        seq=4,
        kind=OutcomeKind.withdrawn,
        service="sada",
        priority="high",
        due_at=at,
        occurred_at=at,
        reason_code="consent_withdrawn",
        item_state=WithdrawnState.accepted,
    )
    sender = RecordingSender()
    notify = fake_notify(routing, sender)
    await notify_outcome(outcome, notify)
    await notify_outcome(outcome, notify)
    assert sorted((n.kind.value, n.channel.value) for n in sender.delivered) == [
        ("outcome", "webhook"),
        ("withdrawn", "email"),
        ("withdrawn", "webhook"),
    ]
    polled = outcome.model_copy(update={"outcome_id": "o-10", "referral_id": "r-2", "partner_id": "dev-school"})
    await notify_outcome(polled, notify)
    assert [(n.kind.value, n.referral_id) for n in sender.delivered[3:]] == [
        ("withdrawn", "r-2"),
        ("withdrawn", "r-2"),
    ]
