"""Notify's agents: tell each receiving team about its assignments and each manager about breaches;
retry failures off the main partition; dead-letter what cannot be delivered. Thin shells."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import faust
import structlog
from pydantic import ValidationError

from schemas.audit import AuditAction
from schemas.codec import decode, encode
from schemas.decision import DecisionKind, TriageDecision
from schemas.escalation import Escalation
from schemas.notification import Notification, NotificationAttempt
from services.common import topics
from services.common.audit_chain import ChainHead
from services.common.dead_letters import dead_letter
from services.common.logs import get_logger
from services.notify.adapters.channels import DeliveryError
from services.notify.backoff import after_failure
from services.notify.content import notifications_for_decision, notifications_for_escalation
from services.notify.dispatch import DeliveryRecord, delivery_event

if TYPE_CHECKING:
    from services.notify.app import Notify

log = get_logger("sosafe.notify")


def register(notify: Notify) -> None:
    app, metrics, settings = notify.app, notify.metrics, notify.settings
    inbound = app.topic(topics.DECISIONS, topics.ESCALATIONS, partitions=settings.topic_partitions)

    def labels(n: Notification, outcome: str) -> None:
        metrics.notifications.labels(n.channel.value, n.service.value, outcome).inc()

    async def deliver(n: Notification, attempt: int, head: ChainHead | None, chain_key: str
                      ) -> ChainHead:
        """Send once; on failure hand the notification to the retry or dead-letter topic. Returns the
        chain head after this attempt's audit event."""
        key = n.referral_id.encode()
        started = time.perf_counter()
        try:
            await notify.senders.for_channel(n.channel).send(n)
        except DeliveryError as exc:
            labels(n, "failed")
            now = datetime.now(UTC)
            dead, next_attempt = after_failure(n, attempt, exc.message, now, settings.retry_policy, notify.rng,
                                               permanent=exc.permanent)
            await (notify.dead if dead else notify.retry).send(key=key, value=encode(next_attempt))
            labels(n, "dead_lettered" if dead else "retried")
            action = AuditAction.dead_lettered if dead else AuditAction.notification_failed
            event, new_head = delivery_event(head, chain_key, n, action, now, attempt, exc.failure.value)
            await notify.audit.send(key=key, value=encode(event))
            log.warning("notification_failed", channel=n.channel.value, service=n.service.value,
                        attempt=attempt, failure=exc.failure.value, dead_lettered=dead)
            return new_head
        metrics.send_seconds.labels(n.channel.value).observe(time.perf_counter() - started)
        labels(n, "sent")
        now = datetime.now(UTC)
        event, new_head = delivery_event(head, chain_key, n, AuditAction.notified, now, attempt)
        await notify.audit.send(key=key, value=encode(event))
        log.info("notification_sent", channel=n.channel.value, service=n.service.value, attempt=attempt)
        return new_head

    def notifications_for(topic: str, raw: bytes, now: datetime) -> list[Notification]:
        console = settings.console_base_url
        if topic == topics.DECISIONS:
            decision = decode(raw, TriageDecision)
            found = notifications_for_decision(decision, notify.routing.channels_for, console, now)
            if decision.kind == DecisionKind.initial:
                for _ in found:
                    metrics.end_to_end.observe(max(0.0, (now - decision.decided_at).total_seconds()))
            return found
        return notifications_for_escalation(decode(raw, Escalation), notify.routing.channels_for, console, now)

    @app.agent(inbound, name="notify")
    async def notify_teams(stream: faust.StreamT[bytes]) -> None:
        """One notification per assignment (or escalation) per channel, never twice for the same id."""
        await notify.senders.ensure_started()
        async for event in stream.events():
            message = event.message
            structlog.contextvars.bind_contextvars(topic=message.topic, partition=message.partition,
                                                   offset=message.offset)
            try:
                found = notifications_for(message.topic, event.value or b"", datetime.now(UTC))
            except ValidationError as exc:
                await dead_letter(notify.dead_messages, metrics.poison, "notify", event, "invalid_message",
                                  exc.error_count())
                continue
            if not found:
                continue
            key = found[0].referral_id.encode()
            structlog.contextvars.bind_contextvars(referral_id=found[0].referral_id)
            raw = notify.sent.get(key)
            record = decode(raw, DeliveryRecord) if raw else DeliveryRecord()
            for n in found:
                if record.has(n.notification_id):
                    labels(n, "duplicate_skipped")
                    continue
                head = await deliver(n, 1, record.head, n.referral_id)
                record = record.with_handled(n.notification_id, head)
                notify.sent[key] = encode(record)

    @app.agent(notify.retry, name="notify-retry")
    async def retry_failed(stream: faust.StreamT[bytes]) -> None:
        """Waits out each attempt's backoff (blocking only the retry partition) and tries again."""
        await notify.senders.ensure_started()
        async for event in stream.events():
            try:
                attempt = decode(event.value or b"", NotificationAttempt)
            except ValidationError as exc:
                await dead_letter(notify.dead_messages, metrics.poison, "notify", event, "invalid_message",
                                  exc.error_count())
                continue
            n = attempt.notification
            key = n.referral_id.encode()
            structlog.contextvars.bind_contextvars(referral_id=n.referral_id, topic=event.message.topic,
                                                   partition=event.message.partition, offset=event.message.offset)
            raw = notify.retried.get(key)
            record = decode(raw, DeliveryRecord) if raw else DeliveryRecord()
            handled_key = f"{n.notification_id}#{attempt.attempt}"
            if record.has(handled_key):
                continue
            wait = (attempt.not_before - datetime.now(UTC)).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)
            head = await deliver(n, attempt.attempt + 1, record.head, f"{n.referral_id}:retry")
            notify.retried[key] = encode(record.with_handled(handled_key, head))


