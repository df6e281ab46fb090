"""Records written per referral: how many records the whole path puts on the broker for one referral.

A fresh `Stack` takes `count` synthetic referrals over HTTP; once every one is notified and the topics
have stopped growing, each topic's records (over its partitions) are counted and divided by `count`.
Every topic counts: contract topics, internal hops and table changelogs.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from bench.load import NotifiedTracker, post_http, submissions
from services.cli.stack import Stack

SETTLE_S = 1.0
"""The counts are read again after this long until they no longer change (the last changelog writes)."""
IDLE_POLLS = 3
"""Empty fetches in a row (100 ms each) after which a topic read to its end holds no more records."""


@dataclass(frozen=True)
class RecordCount:
    referrals: int
    by_topic: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_topic.values())

    @property
    def per_referral(self) -> float:
        return self.total / self.referrals

    def table(self) -> str:
        """One line per topic that holds records, the most first, then the total per referral."""
        rows = sorted(((n, t) for t, n in self.by_topic.items() if n), reverse=True)
        lines = [f"{topic:45} {n / self.referrals:6.2f}" for n, topic in rows]
        return "\n".join([*lines, f"{'records per referral':45} {self.per_referral:6.2f}"])


async def topic_records(bootstrap: str) -> dict[str, int]:
    """Records held on each topic, read from the start (broker-internal `__…` topics left out).

    Read rather than taken from the offsets: the embedded broker's end offset of a partition whose last
    batch holds several records is short of the records it holds."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    try:
        names = [t for t in await consumer.topics() if not t.startswith("__")]
        partitions = [TopicPartition(t, p) for t in names for p in sorted(consumer.partitions_for_topic(t) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        counts = dict.fromkeys(names, 0)
        idle = 0
        while idle < IDLE_POLLS or [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=100, max_records=10_000)
            idle = 0 if batch else idle + 1
            for tp, records in batch.items():
                counts[tp.topic] += len(records)
    finally:
        await consumer.stop()
    return counts


async def settled_records(bootstrap: str, timeout: float = 30.0) -> dict[str, int]:
    """`topic_records` once two readings `SETTLE_S` apart agree (or at `timeout`)."""
    deadline = time.monotonic() + timeout
    last = await topic_records(bootstrap)
    while time.monotonic() < deadline:
        await asyncio.sleep(SETTLE_S)
        now = await topic_records(bootstrap)
        if now == last:
            break
        last = now
    return last


async def count_http_path(stack: Stack, count: int, concurrency: int = 4, timeout: float = 300.0) -> RecordCount:
    """Posts `count` synthetic referrals to the stack's intake, waits until each is notified, and counts
    every record on the broker. The stack must be fresh: whatever it already holds is counted too."""
    assert stack.broker is not None
    bootstrap = stack.broker.bootstrap
    items = submissions(count, f"records-{uuid.uuid4().hex[:6]}")
    tracker = NotifiedTracker(bootstrap)
    await tracker.start()
    try:
        result = await post_http(stack.url("intake"), items, concurrency)
        if result.accepted != count:
            raise RuntimeError(f"intake accepted {result.accepted} of {count}: {dict(result.statuses)}")
        if not await tracker.wait_for([s.referral_id for s in items], timeout, "records", stall_s=60):
            raise RuntimeError(f"only {tracker.count_done([s.referral_id for s in items])} of {count} notified")
    finally:
        await tracker.stop()
    return RecordCount(count, await settled_records(bootstrap))


def records_per_referral(workdir: Path, count: int = 200, partitions: int = 4) -> RecordCount:
    """The records per referral of an HTTP-submitted referral, on a fresh stack of its own."""
    stack = Stack(workdir=workdir, partitions=partitions)
    stack.start()
    try:
        return asyncio.run(count_http_path(stack, count))
    finally:
        stack.stop()
