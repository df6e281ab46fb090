"""The projector: follows the case table's changelog and `audit.events` into the read model's database.

No consumer group and no broker commits: the offsets live in the database, written in the same
transaction as the rows (exactly-once projection). On start it reads them and seeks there; a projector
killed mid-batch leaves neither rows nor offsets of that batch, and the next one starts where the last
commit ended. Each triage replica runs one; replicas sharing a database take turns per batch and skip
what another already stored, so the second adds nothing but a read of the topics.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.logs import get_logger
from services.triage.read.projection import FOLLOWED, project, stored_offsets

log = get_logger("sosafe.triage.read")

MAX_RECORDS = 1000
RETRY_S = (0.5, 1.0, 2.0, 5.0)


class Projector:
    """One consumer's life at a time: seek to the stored offsets, then project batch by batch."""

    def __init__(
        self,
        engine: AsyncEngine,
        bootstrap: str,
        caught_up: asyncio.Event | None = None,
        max_records: int = MAX_RECORDS,
        security: Mapping[str, Any] | None = None,
    ) -> None:
        self.engine = engine
        self.bootstrap = bootstrap
        self.security = dict(security or {})
        """aiokafka's security options (services.common.kafka_security); none for the embedded broker."""
        self.caught_up = caught_up or asyncio.Event()
        self.max_records = max_records
        self.applied = 0
        """Records this projector stored (not counting those another projector stored first)."""
        self.started_from: dict[TopicPartition, int] = {}

    async def run(self) -> None:
        """Follow until cancelled; after a failure (database or broker away), start again from the stored offsets."""
        failures = 0
        while True:
            try:
                await self.follow()
            except Exception as exc:
                delay = RETRY_S[min(failures, len(RETRY_S) - 1)]
                failures += 1
                log.error("read_model_projector_failed", error=type(exc).__name__, retry_in_s=delay)
                await asyncio.sleep(delay)

    async def follow(self) -> None:
        """Seek to the stored offsets and project until cancelled or a batch fails (then raise)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            **self.security,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        try:
            tps = await _assign_all(consumer)
            async with self.engine.connect() as connection:
                stored = await stored_offsets(connection)
            self.started_from = {tp: stored.get((tp.topic, tp.partition), 0) for tp in tps}
            for tp, offset in self.started_from.items():
                consumer.seek(tp, offset)
            ends = await consumer.end_offsets(tps)
            for tp, offset in self.started_from.items():
                if offset > ends[tp]:  # the topic was recreated (a new embedded broker): rebuild the read model
                    log.error(
                        "read_model_ahead_of_topic",
                        topic=tp.topic,
                        partition=tp.partition,
                        stored_offset=offset,
                        end_offset=ends[tp],
                    )
            while True:
                batch = await consumer.getmany(timeout_ms=200, max_records=self.max_records)
                records = [record for records in batch.values() for record in records]
                if records:
                    async with self.engine.begin() as connection:
                        applied = await project(connection, records)
                    self.applied += applied
                if not self.caught_up.is_set() and await _reached(consumer, ends):
                    self.caught_up.set()
                    log.info("read_model_caught_up", records_applied=self.applied)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()


async def _reached(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True


async def _assign_all(consumer: AIOKafkaConsumer) -> list[TopicPartition]:
    for _ in range(100):
        partitions = {topic: consumer.partitions_for_topic(topic) for topic in FOLLOWED}
        if all(partitions.values()):
            tps = [TopicPartition(topic, p) for topic, ps in partitions.items() for p in sorted(ps or ())]
            consumer.assign(tps)
            return tps
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.1)
    raise RuntimeError("the audit topic or the triage changelog does not exist; create the topics first")
