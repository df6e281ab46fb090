"""Sending a message a service cannot process to `messages.dead`, logged and counted (STYLE rule 6)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, TypeVar

import faust
from prometheus_client import Counter
from pydantic import BaseModel, ValidationError

from schemas.codec import decode, encode
from schemas.dead_letter import DeadLetter
from services.common.logs import get_logger

log = get_logger("sosafe.dead_letters")
M = TypeVar("M", bound=BaseModel)


async def dead_letter(topic: faust.TopicT, counter: Counter, service: Literal["intake", "triage", "notify"],
                      event: faust.EventT[bytes], reason: str, error_count: int = 0) -> None:
    message = event.message
    raw = event.value or b""
    record = DeadLetter(service=service, topic=message.topic, partition=message.partition, offset=message.offset,
                        reason=reason, error_count=error_count, failed_at=datetime.now(UTC),
                        raw=raw[:200_000].decode("utf-8", errors="replace"))
    await topic.send(key=message.key, value=encode(record))
    counter.labels(service, message.topic).inc()
    log.error("message_dead_lettered", reason=reason, error_count=error_count, source_topic=message.topic,
              partition=message.partition, offset=message.offset)


async def decode_or_dead_letter(event: faust.EventT[bytes], model: type[M], topic: faust.TopicT, counter: Counter,
                                service: Literal["intake", "triage", "notify"]) -> M | None:
    """The event's value as `model`, or None after dead-lettering it (logged and counted) when it is not one."""
    try:
        return decode(event.value or b"", model)
    except ValidationError as exc:
        await dead_letter(topic, counter, service, event, "invalid_message", exc.error_count())
        return None
