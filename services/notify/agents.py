"""Notify's agents: tell each receiving team about its assignments and each manager about breaches;
retry failures off the main partition; dead-letter what cannot be delivered. Thin shells."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import faust
import structlog
from faust.types import TableT
from pydantic import ValidationError

from schemas.codec import decode, encode
from schemas.decision import DecisionKind, TriageDecision
from schemas.escalation import Escalation
from schemas.notification import Notification, NotificationAttempt
from services.common import topics
from services.common.dead_letters import dead_letter, decode_or_dead_letter
from services.common.logs import get_logger
from services.notify.adapters.channels import DeliveryError
from services.notify.content import notifications_for_decision, notifications_for_escalation
from services.notify.dispatch import DeliveryRecord, Message, plan_delivery, record_attempt

if TYPE_CHECKING:
    from services.notify.app import Notify

log = get_logger("sosafe.notify")


def register(notify: Notify) -> None:
    app, metrics, settings = notify.app, notify.metrics, notify.settings
    inbound = app.topic(topics.DECISIONS, topics.ESCALATIONS, partitions=settings.topic_partitions)

    def labels(n: Notification, outcome: str) -> None:
        metrics.notifications.labels(n.channel.value, n.service.value, outcome).inc()

    outgoing = {topics.AUDIT: notify.audit, topics.NOTIFY_RETRY: notify.retry, topics.NOTIFY_DEAD: notify.dead}

    async def send_messages(key: bytes, messages: list[Message]) -> None:
        for message in messages:
            await outgoing[message.topic].send(key=key, value=message.value.encode())

    async def attempt(n: Notification) -> tuple[str, str, bool] | None:
        """Send once to the peer: None when delivered, else (message, failure code, permanent)."""
        started = time.perf_counter()
        try:
            await notify.senders.for_channel(n.channel).send(n)
        except DeliveryError as exc:
            return exc.message, exc.failure.value, exc.permanent
        metrics.send_seconds.labels(n.channel.value).observe(time.perf_counter() - started)
        return None

    async def deliver_all(table: TableT[bytes, bytes], key: bytes, chain_key: str,
                          pending: list[tuple[str, Notification, int]]) -> None:
        """Intent (flushed), attempt, then record and send what each attempt produced (see dispatch)."""
        raw = table.get(key)
        by_step = {step: (n, number) for step, n, number in pending}
        plan = plan_delivery(decode(raw, DeliveryRecord) if raw else DeliveryRecord(), list(by_step),
                             datetime.now(UTC))
        for done in plan.replay:  # a redelivery: the attempt was made; its messages go out again
            await send_messages(key, done.messages)
            labels(by_step[done.step][0], "duplicate_skipped")
        if plan.new_intents:
            table[key] = encode(plan.record)
            await app.producer.flush()
        record = plan.record
        for step in plan.attempts:
            n, number = by_step[step]
            failure = await attempt(n)
            record, result = record_attempt(record, step, n, number, failure, chain_key, settings.retry_policy,
                                            notify.rng)
            table[key] = encode(record)
            await send_messages(key, result.messages)
            for outcome in result.outcomes:
                labels(n, outcome)
            log.log(30 if failure else 20, "notification_failed" if failure else "notification_sent",
                    channel=n.channel.value, service=n.service.value, attempt=number,
                    failure=failure[1] if failure else None, dead_lettered=result.dead)

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
            await deliver_all(notify.sent, key, found[0].referral_id, [(n.notification_id, n, 1) for n in found])

    @app.agent(notify.retry, name="notify-retry")
    async def retry_failed(stream: faust.StreamT[bytes]) -> None:
        """Waits out each attempt's backoff (blocking only the retry partition) and tries again."""
        await notify.senders.ensure_started()
        async for event in stream.events():
            retry = await decode_or_dead_letter(event, NotificationAttempt, notify.dead_messages, metrics.poison,
                                                "notify")
            if retry is None:
                continue
            n = retry.notification
            structlog.contextvars.bind_contextvars(referral_id=n.referral_id, topic=event.message.topic,
                                                   partition=event.message.partition, offset=event.message.offset)
            wait = (retry.not_before - datetime.now(UTC)).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)
            await deliver_all(notify.retried, n.referral_id.encode(), f"{n.referral_id}:retry",
                              [(f"{n.notification_id}#{retry.attempt + 1}", n, retry.attempt + 1)])
