"""Sending a message a service cannot process to `messages.dead`, audited, logged and counted (STYLE rule 6)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import faust
from prometheus_client import Counter
from pydantic import BaseModel, ValidationError

from schemas.audit import ActorKind, AuditAction, AuditEvent, Emitter
from schemas.audit_details import DeadLetterDetails
from schemas.codec import decode, encode
from schemas.dead_letter import DeadLetter
from schemas.raw_excerpt import raw_excerpt
from services.common.audit_chain import next_event
from services.common.logs import get_logger
from services.common.topic_models import MODELS

log = get_logger("sosafe.dead_letters")

MAX_KEY_BYTES = 256
"""A source key longer than this is replaced by its SHA-256 on the dead letter, so the record stays small."""


@dataclass(frozen=True)
class Source:
    """Where a message was read: enough to find it again and to audit it the same way on a redelivery."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime


@dataclass(frozen=True)
class DeadLetters:
    """Where one service sets aside what it cannot process: the topic, the audit trail and the counter."""

    service: Emitter
    topic: faust.TopicT
    audit: faust.TopicT
    counter: Counter


def dead_letter_record(
    service: Emitter, source: Source, raw: bytes, reason: str, error_count: int, failed_at: datetime
) -> tuple[DeadLetter, AuditEvent]:
    """The dead letter of a message (a bounded excerpt of `raw`) and its `dead_lettered` audit event.

    The event has a chain of its own, named by the source position, and the source's time, so a
    redelivered message yields the identical event."""
    kept = raw_excerpt(raw)
    record = DeadLetter(
        service=service,
        topic=source.topic,
        partition=source.partition,
        offset=source.offset,
        reason=reason,
        error_count=error_count,
        failed_at=failed_at,
        raw=kept,
    )
    event, _ = next_event(
        None,
        emitter=service,
        chain_key=f"dead-letter:{source.topic}:{source.partition}:{source.offset}",
        referral_id=None,
        action=AuditAction.dead_lettered,
        actor_kind=ActorKind.service,
        actor=service,
        occurred_at=source.timestamp,
        details=DeadLetterDetails(
            source_topic=source.topic,
            partition=source.partition,
            offset=source.offset,
            reason=reason,
            error_count=error_count,
            raw_length=kept.length,
            raw_sha256=kept.sha256,
        ),
    )
    return record, event


def dead_letter_key(key: bytes | None) -> bytes | None:
    """The source key, or its SHA-256 (hex) when it is too long to repeat."""
    if key is None or len(key) <= MAX_KEY_BYTES:
        return key
    return hashlib.sha256(key).hexdigest().encode()


def source_of(event: faust.EventT[bytes]) -> Source:
    message = event.message
    timestamp = datetime.fromtimestamp(message.timestamp, UTC) if message.timestamp else datetime.now(UTC)
    return Source(topic=message.topic, partition=message.partition, offset=message.offset, timestamp=timestamp)


async def dead_letter(dead: DeadLetters, event: faust.EventT[bytes], reason: str, error_count: int = 0) -> None:
    source = source_of(event)
    record, audit_event = dead_letter_record(
        dead.service, source, event.value or b"", reason, error_count, datetime.now(UTC)
    )
    await dead.topic.send(key=dead_letter_key(event.message.key), value=encode(record))
    await dead.audit.send(key=audit_event.chain.encode(), value=encode(audit_event))
    dead.counter.labels(dead.service, source.topic).inc()
    log.error(
        "message_dead_lettered",
        reason=reason,
        error_count=error_count,
        source_topic=source.topic,
        partition=source.partition,
        offset=source.offset,
        raw_length=record.raw.length,
        raw_sha256=record.raw.sha256,
    )


async def decode_or_dead_letter(
    event: faust.EventT[bytes], dead: DeadLetters, models: Mapping[str, type[BaseModel]] = MODELS
) -> BaseModel | None:
    """The event's value as the model its topic carries (`models`, by default the registry), or None after
    dead-lettering it (audited, logged, counted) when it is not one. The caller dispatches on the type."""
    try:
        return decode(event.value or b"", models[event.message.topic])
    except ValidationError as exc:
        await dead_letter(dead, event, "invalid_message", exc.error_count())
        return None
