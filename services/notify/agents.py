"""Notify's agents: tell each receiving team about its assignments and each manager about breaches;
retry failures off the main partition; dead-letter what cannot be delivered.

Each handler is a module-level function of the decoded message and the `Notify` service object
(`notify_decision`, `notify_escalation`, `retry_notification`); `register` only binds them to the topics,
decodes by the topic registry (`services.common.topic_models`) and dispatches on the model's type.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import faust
import structlog
from faust.types import TableT
from pydantic import BaseModel

from schemas.codec import decode, encode
from schemas.decision import DecisionKind, TriageDecision
from schemas.escalation import Escalation
from schemas.notification import Notification, NotificationAttempt, NotificationKind
from schemas.outcome import OutcomeKind, ReferralOutcome
from schemas.vocabulary import Service
from services.common import topics
from services.common.confirmed_step import confirmed_step
from services.common.dead_letters import DeadLetters, decode_or_dead_letter
from services.common.logs import get_logger
from services.notify.adapters.channels import DeliveryError
from services.notify.content import (
    TAKEN_ON,
    notification_for_outcome,
    notifications_for_decision,
    notifications_for_escalation,
    notifications_for_withdrawal,
    unreached_services,
)
from services.notify.dispatch import DeliveryRecord, Message, attempt_result, split_done

if TYPE_CHECKING:
    from services.notify.service import Notify

log = get_logger("sosafe.notify")

Pending = tuple[str, Notification, int]
"""One attempt to make: its step id in the delivery record, the notification and the attempt number."""
Forward = tuple[str, Message]
"""One message to forward with no attempt to make: its step id in the delivery record and the message."""


async def notify_decision(decision: TriageDecision, notify: Notify) -> None:
    """One notification per assignment per channel, never twice for the same id."""
    now = datetime.now(UTC)
    found = notifications_for_decision(decision, notify.routing.channels_for, notify.settings.console_base_url, now)
    for service in unreached_services(decision, notify.routing.channels_for):
        unreached(notify, service, NotificationKind.assignment)
    if decision.kind == DecisionKind.initial:
        for _ in found:
            notify.metrics.end_to_end.observe(max(0.0, (now - decision.decided_at).total_seconds()))
    await deliver_first(found, notify)


async def notify_escalation(escalation: Escalation, notify: Notify) -> None:
    """One notification to the service's manager per channel, never twice for the same escalation."""
    now = datetime.now(UTC)
    found = notifications_for_escalation(escalation, notify.routing.channels_for, notify.settings.console_base_url, now)
    if not found:
        unreached(notify, escalation.service, NotificationKind.escalation)
    await deliver_first(found, notify)


async def notify_outcome(outcome: ReferralOutcome, notify: Notify) -> None:
    """The referring partner's signed webhook for one outcome, never twice for the same id; a partner with no
    outcomes webhook polls triage instead (`GET /v1/referrals?updated_since=`), so nothing is sent to it.
    Every outcome is also forwarded to the partner's own topic (`partner_copy`), recorded in the same step.
    A withdrawal of an assignment the service had claimed or accepted also goes to the service's team."""
    now = datetime.now(UTC)
    found = notifications_for_withdrawal(outcome, notify.routing.channels_for, notify.settings.console_base_url, now)
    if not found and outcome.kind is OutcomeKind.withdrawn and outcome.item_state in TAKEN_ON:
        unreached(notify, outcome.service, NotificationKind.withdrawn)
    if outcome.partner_id in notify.partners_told:
        found.append(notification_for_outcome(outcome, now))
    structlog.contextvars.bind_contextvars(referral_id=outcome.referral_id)
    pending: list[Pending] = [(n.notification_id, n, 1) for n in found]
    key = outcome.referral_id.encode()
    await deliver_all(notify, notify.sent, key, outcome.referral_id, pending, partner_copy(outcome, notify))


def partner_copy(outcome: ReferralOutcome, notify: Notify) -> list[Forward]:
    """The outcome for its referring partner's own topic `referrals.outcomes.<partner id>`, recorded as a step
    of the referral's delivery record (step id `<outcome id>:partner-topic`), if the partner asked for one
    (`outcomes_topic` in the access file); otherwise nothing is forwarded."""
    topic = topics.partner_outcomes(outcome.partner_id)
    if topic not in notify.partner_outcomes:
        return []
    return [(f"{outcome.outcome_id}:partner-topic", Message(topic=topic, value=encode(outcome).decode()))]


def unreached(notify: Notify, service: Service, kind: NotificationKind) -> None:
    """No contact configured for the service: nobody will hear of it, so say so (metric, alert, log)."""
    notify.metrics.unreached.labels(service.value, kind.value).inc()
    log.warning("notification_unreached", service=service.value, kind=kind.value, reason="no_contact_configured")


async def deliver_first(found: list[Notification], notify: Notify) -> None:
    """The first attempt of each notification a message asked for (all of one referral)."""
    if not found:
        return
    key = found[0].referral_id.encode()
    structlog.contextvars.bind_contextvars(referral_id=found[0].referral_id)
    await deliver_all(notify, notify.sent, key, found[0].referral_id, [(n.notification_id, n, 1) for n in found])


async def retry_notification(retry: NotificationAttempt, notify: Notify) -> None:
    """Waits out the attempt's backoff (blocking only the retry partition) and tries again."""
    n = retry.notification
    structlog.contextvars.bind_contextvars(referral_id=n.referral_id)
    wait = (retry.not_before - datetime.now(UTC)).total_seconds()
    if wait > 0:
        await asyncio.sleep(wait)
    await deliver_all(
        notify,
        notify.retried,
        n.referral_id.encode(),
        f"{n.referral_id}:retry",
        [(f"{n.notification_id}#{retry.attempt + 1}", n, retry.attempt + 1)],
    )


async def deliver_all(
    notify: Notify,
    table: TableT[bytes, bytes],
    key: bytes,
    chain_key: str,
    pending: list[Pending],
    forwards: list[Forward] | None = None,
) -> None:
    """Attempt what is not done yet, record every attempt (and every forward) in one write, and send what
    they produced only once that record is on the broker (see dispatch)."""
    forwards = forwards or []
    raw = table.get(key)
    record = decode(raw, DeliveryRecord) if raw else DeliveryRecord()
    produced, todo = split_done(record, [step for step, _, _ in pending] + [step for step, _ in forwards])
    for step, n, number in pending:
        if step not in todo:  # a redelivery: the attempt was made; its messages go out again
            count(notify, n, "duplicate_skipped")
            continue
        failure = await attempt(notify, n)
        result = attempt_result(
            n, number, failure, datetime.now(UTC), record.head, chain_key, notify.settings.retry_policy, notify.rng
        )
        record = record.with_done(step, result.messages, result.head)
        produced.extend(result.messages)
        for outcome in result.outcomes:
            count(notify, n, outcome)
        log.log(
            30 if failure else 20,
            "notification_failed" if failure else "notification_sent",
            channel=n.channel.value,
            service=n.service.value,
            attempt=number,
            failure=failure[1] if failure else None,
            dead_lettered=result.dead,
        )
    for step, message in forwards:
        if step in todo:
            record = record.with_done(step, [message], record.head)
            produced.append(message)
    if todo:
        table[key] = encode(record)
        await notify.app.producer.flush()  # recorded before any of its messages can be seen
    await send_messages(notify, key, produced)


async def attempt(notify: Notify, n: Notification) -> tuple[str, str, bool] | None:
    """Send once to the peer: None when delivered, else (message, failure code, permanent)."""
    started = time.perf_counter()
    try:
        await notify.senders.for_channel(n.channel).send(n)
    except DeliveryError as exc:
        return exc.message, exc.failure.value, exc.permanent
    notify.metrics.send_seconds.labels(n.channel.value).observe(time.perf_counter() - started)
    return None


async def send_messages(notify: Notify, key: bytes, messages: list[Message]) -> None:
    outgoing = {
        topics.AUDIT: notify.audit,
        topics.NOTIFY_RETRY: notify.retry,
        topics.NOTIFY_DEAD: notify.dead,
        **notify.partner_outcomes,
    }
    for message in messages:
        await outgoing[message.topic].send(key=key, value=message.value.encode())


def count(notify: Notify, n: Notification, outcome: str) -> None:
    notify.metrics.notifications.labels(n.channel.value, n.service.value, outcome).inc()


async def handle(message: BaseModel, notify: Notify) -> None:
    """Dispatch a decoded message to its handler by type."""
    match message:
        case TriageDecision():
            await notify_decision(message, notify)
        case Escalation():
            await notify_escalation(message, notify)
        case ReferralOutcome():
            await notify_outcome(message, notify)
        case NotificationAttempt():
            await retry_notification(message, notify)
        case _:  # the registry and the agents' topics disagree: a bug, so the worker ends (confirmed_step)
            raise TypeError(f"notify has no handler for {type(message).__name__}")


def register(notify: Notify) -> None:
    """Bind the handlers to notify's topics: new decisions and escalations, and the retries."""
    app = notify.app
    inbound = app.topic(
        topics.DECISIONS, topics.ESCALATIONS, topics.OUTCOMES, partitions=notify.settings.topic_partitions
    )
    dead = DeadLetters("notify", notify.dead_messages, notify.audit, notify.metrics.poison)

    async def consume(stream: faust.StreamT[bytes]) -> None:
        await notify.senders.ensure_started()
        async for event in stream.events():
            with confirmed_step(event):
                message = event.message
                structlog.contextvars.bind_contextvars(
                    topic=message.topic, partition=message.partition, offset=message.offset
                )
                value = await decode_or_dead_letter(event, dead)
                if value is not None:
                    await handle(value, notify)

    @app.agent(inbound, name="notify")
    async def notify_teams(stream: faust.StreamT[bytes]) -> None:
        """Decisions, escalations and outcomes: `notify_decision`, `notify_escalation`, `notify_outcome`."""
        await consume(stream)

    @app.agent(notify.retry, name="notify-retry")
    async def retry_failed(stream: faust.StreamT[bytes]) -> None:
        """Retries, on a topic of their own so a failing peer holds up only them: `retry_notification`."""
        await consume(stream)
