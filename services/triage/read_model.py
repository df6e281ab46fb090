"""What every triage replica reads from: all referrals' cases, records and trails, whoever owns them.

The case agent writes its tables on the replica that owns the referral's partition; each table's
changelog carries every write. This read model follows those changelogs from the beginning on every
replica (a consumer with no group, assigned all partitions), so the officer API, the console and the
report answer for every referral on any replica. (Faust's GlobalTable was tried first; it is known to
miss updates across workers.)
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.codec import decode, encode
from services.common.logs import get_logger
from services.common.topics import TRIAGE_APP
from services.triage.referral_state import ReferralState

log = get_logger("sosafe.triage.read_model")

CASES = f"{TRIAGE_APP}-cases-changelog"
TRAILS = f"{TRIAGE_APP}-audit-trail-changelog"
FOLLOWED = (CASES, TRAILS)


@dataclass
class ReadModel:
    """Latest value per referral id of each followed table (raw bytes, as the tables store them)."""

    cases: dict[bytes, bytes] = field(default_factory=dict)
    referrals: dict[bytes, bytes] = field(default_factory=dict)
    trails: dict[bytes, bytes] = field(default_factory=dict)
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)

    def apply(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        """Take one changelog record: a referral's state (split into its case and record) or its trail."""
        if key is None or value is None:
            return
        if topic == TRAILS:
            self.trails[key] = value
            return
        state = decode(value, ReferralState)
        if state.case is not None:
            self.cases[key] = encode(state.case)
        record = state.record()
        if record is not None:
            self.referrals[key] = encode(record)

    async def follow(self, bootstrap: str) -> None:
        """Read the changelogs from the start, then keep up with them until cancelled."""
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                    auto_offset_reset="earliest", fetch_max_wait_ms=50)
        await consumer.start()
        try:
            tps = await self._assign_all(consumer)
            ends = await consumer.end_offsets(tps)
            while True:
                batch = await consumer.getmany(timeout_ms=200, max_records=5000)
                for tp, records in batch.items():
                    for record in records:
                        self.apply(tp.topic, record.key, record.value)
                if not self.caught_up.is_set():
                    positions = [await consumer.position(tp) for tp in tps]
                    if all(position >= ends[tp] for position, tp in zip(positions, tps, strict=True)):
                        self.caught_up.set()
                        log.info("read_model_caught_up", cases=len(self.cases))
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()

    @staticmethod
    async def _assign_all(consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        for _ in range(100):
            partitions = {topic: consumer.partitions_for_topic(topic) for topic in FOLLOWED}
            if all(partitions.values()):
                tps = [TopicPartition(topic, p) for topic, ps in partitions.items() for p in sorted(ps or ())]
                consumer.assign(tps)
                await consumer.seek_to_beginning(*tps)
                return tps
            await consumer._client.force_metadata_update()
            await asyncio.sleep(0.1)
        raise RuntimeError("the triage changelog topics do not exist; create the topics first")
