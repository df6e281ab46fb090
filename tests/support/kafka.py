"""Reading and writing topics on the real broker from tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord, RecordMetadata


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[ConsumerRecord]], bool] | None = None,
    timeout: float = 30.0,
    settle: float = 0.0,
) -> list[ConsumerRecord]:
    """Every record of `topic` from the start, until `until(records)` holds (then `settle` seconds more, to
    catch anything that should NOT arrive) or `timeout` passes."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        deadline = time.monotonic() + timeout
        satisfied_at: float | None = None
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                records.extend(recs)
            if until is not None and satisfied_at is None and until(records):
                satisfied_at = time.monotonic()
            if satisfied_at is not None and time.monotonic() - satisfied_at >= settle:
                break
        return records
    finally:
        await consumer.stop()


async def produce(bootstrap: str, topic: str, value: bytes, key: bytes | None = None) -> RecordMetadata:
    """Send one record and wait for the broker's acknowledgement; records over 1 MB are allowed."""
    max_request_size = max(1024 * 1024, len(value) + len(key or b"") + 64 * 1024)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=max_request_size)
    await producer.start()
    try:
        return await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def produce_batch(bootstrap: str, topic: str, messages: list[tuple[bytes | None, bytes]]) -> list[RecordMetadata]:
    """Send each (key, value) in order through one producer; the broker's acknowledgement of each, in order,
    so each message can be found again by its partition and offset."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        pending = [await producer.send(topic, value, key=key) for key, value in messages]
        return [await acknowledged for acknowledged in pending]
    finally:
        await producer.stop()


def run(coro: object) -> object:
    return asyncio.get_event_loop().run_until_complete(coro)  # type: ignore[arg-type]


async def produce_steadily(
    bootstrap: str,
    topic: str,
    bodies: list[dict],
    every: int,
    pause: float,
    key_for: Callable[[int, dict], bytes | None] | None = None,
) -> None:
    """Send each body as JSON (keyed by `key_for(n, body)` if given), flushing and pausing `pause` seconds after
    every `every` of them, so a test's faults land while the flow is under way."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for n, body in enumerate(bodies):
            await producer.send(topic, orjson.dumps(body), key=key_for(n, body) if key_for else None)
            if n % every == every - 1:
                await producer.flush()
                await asyncio.sleep(pause)
        await producer.flush()
    finally:
        await producer.stop()
