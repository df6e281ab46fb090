"""Sending a message a service cannot process to `messages.dead`, logged and counted (STYLE rule 6)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import faust
from prometheus_client import Counter

from schemas.codec import encode
from schemas.dead_letter import DeadLetter
from services.common.logs import get_logger

log = get_logger("sosafe.dead_letters")


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
