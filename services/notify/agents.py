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
from schemas.notification import Notification, NotificationAttempt, NotificationKind
from schemas.vocabulary import Service
from services.common import topics
from services.common.confirmed_step import confirmed_step
from services.common.dead_letters import DeadLetters, dead_letter, decode_or_dead_letter
from services.common.logs import get_logger
from services.notify.adapters.channels import DeliveryError
from services.notify.content import notifications_for_decision, notifications_for_escalation, unreached_services
from services.notify.dispatch import DeliveryRecord, Message, attempt_result, split_done

if TYPE_CHECKING:
    from services.notify.app import Notify

log = get_logger("sosafe.notify")


def register(notify: Notify) -> None:
    app, metrics, settings = notify.app, notify.metrics, notify.settings
    inbound = app.topic(topics.DECISIONS, topics.ESCALATIONS, partitions=settings.topic_partitions)
    dead = DeadLetters("notify", notify.dead_messages, notify.audit, metrics.poison)

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

    async def deliver_all(
        table: TableT[bytes, bytes], key: bytes, chain_key: str, pending: list[tuple[str, Notification, int]]
    ) -> None:
        """Attempt what is not done yet, record every attempt in one write, and send what they produced
        only once that record is on the broker (see dispatch)."""
        raw = table.get(key)
        record = decode(raw, DeliveryRecord) if raw else DeliveryRecord()
        produced, todo = split_done(record, [step for step, _, _ in pending])
        for step, n, number in pending:
            if step not in todo:  # a redelivery: the attempt was made; its messages go out again
                labels(n, "duplicate_skipped")
                continue
            failure = await attempt(n)
            result = attempt_result(
                n, number, failure, datetime.now(UTC), record.head, chain_key, settings.retry_policy, notify.rng
            )
            record = record.with_done(step, result.messages, result.head)
            produced.extend(result.messages)
            for outcome in result.outcomes:
                labels(n, outcome)
            log.log(
                30 if failure else 20,
                "notification_failed" if failure else "notification_sent",
                channel=n.channel.value,
                service=n.service.value,
                attempt=number,
                failure=failure[1] if failure else None,
                dead_lettered=result.dead,
            )
        if todo:
            table[key] = encode(record)
            await app.producer.flush()  # recorded before any of its messages can be seen
        await send_messages(key, produced)

    def unreached(service: Service, kind: NotificationKind) -> None:
        """No contact configured for the service: nobody will hear of it, so say so (metric, alert, log)."""
        metrics.unreached.labels(service.value, kind.value).inc()
        log.warning("notification_unreached", service=service.value, kind=kind.value, reason="no_contact_configured")

    def notifications_for(topic: str, raw: bytes, now: datetime) -> list[Notification]:
        console = settings.console_base_url
        channels_for = notify.routing.channels_for
        if topic == topics.DECISIONS:
            decision = decode(raw, TriageDecision)
            found = notifications_for_decision(decision, channels_for, console, now)
            for service in unreached_services(decision, channels_for):
                unreached(service, NotificationKind.assignment)
            if decision.kind == DecisionKind.initial:
                for _ in found:
                    metrics.end_to_end.observe(max(0.0, (now - decision.decided_at).total_seconds()))
            return found
        escalation = decode(raw, Escalation)
        found = notifications_for_escalation(escalation, channels_for, console, now)
        if not found:
            unreached(escalation.service, NotificationKind.escalation)
        return found

    @app.agent(inbound, name="notify")
    async def notify_teams(stream: faust.StreamT[bytes]) -> None:
        """One notification per assignment (or escalation) per channel, never twice for the same id."""
        await notify.senders.ensure_started()
        async for event in stream.events():
            with confirmed_step(event):
                message = event.message
                structlog.contextvars.bind_contextvars(
                    topic=message.topic, partition=message.partition, offset=message.offset
                )
                try:
                    found = notifications_for(message.topic, event.value or b"", datetime.now(UTC))
                except ValidationError as exc:
                    await dead_letter(dead, event, "invalid_message", exc.error_count())
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
            with confirmed_step(event):
                retry = await decode_or_dead_letter(event, NotificationAttempt, dead)
                if retry is None:
                    continue
                n = retry.notification
                structlog.contextvars.bind_contextvars(
                    referral_id=n.referral_id,
                    topic=event.message.topic,
                    partition=event.message.partition,
                    offset=event.message.offset,
                )
                wait = (retry.not_before - datetime.now(UTC)).total_seconds()
                if wait > 0:
                    await asyncio.sleep(wait)
                await deliver_all(
                    notify.retried,
                    n.referral_id.encode(),
                    f"{n.referral_id}:retry",
                    [(f"{n.notification_id}#{retry.attempt + 1}", n, retry.attempt + 1)],
                )
