"""What every triage replica reads from: all referrals' cases, records and trails, whoever owns them.

The case agent writes its table on the replica that owns the referral's partition; the table's changelog
carries every write. This read model follows that changelog, and `audit.events` for every service's
audit trail, from the beginning on every replica (a consumer with no group, assigned all partitions), so
the officer API, the console and the report answer for every referral on any replica. (Faust's
GlobalTable was tried first; it is known to miss updates across workers.)
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from schemas.audit import AuditEvent
from schemas.codec import decode, encode
from services.common.logs import get_logger
from services.common.topics import AUDIT, TRIAGE_APP
from services.triage.referral_state import ReferralState
from services.triage.trail import Trail

log = get_logger("sosafe.triage.read_model")

CASES = f"{TRIAGE_APP}-cases-changelog"
FOLLOWED = (CASES, AUDIT)


@dataclass
class ReadModel:
    """Latest case and record per referral id, and its audit events (raw bytes, as on the topics)."""

    cases: dict[bytes, bytes] = field(default_factory=dict)
    referrals: dict[bytes, bytes] = field(default_factory=dict)
    audit: dict[bytes, dict[tuple[str, int], bytes]] = field(default_factory=dict)
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)

    def trail(self, key: bytes) -> Trail:
        """Every service's audit events for the referral `key`, each once, in the order they happened."""
        return Trail.of(event for event in map(_audit_event, self.audit.get(key, {}).values()) if event)

    def apply(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        """Take one record: a referral's state (split into its case and record) or an audit event."""
        if value is None:
            return
        if topic == AUDIT:
            self._apply_event(value)
            return
        if key is None:
            return
        state = decode(value, ReferralState)
        if state.case is not None:
            self.cases[key] = encode(state.case)
        record = state.record()
        if record is not None:
            self.referrals[key] = encode(record)

    def _apply_event(self, value: bytes) -> None:
        """File the event under its referral by a cheap look at three fields; it is validated when read."""
        try:
            fields = orjson.loads(value)
            referral_id, chain, seq = fields.get("referral_id"), fields["chain"], fields["seq"]
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError):
            log.error("audit_event_unreadable_in_read_model")
            return
        if isinstance(referral_id, str) and isinstance(chain, str) and isinstance(seq, int):
            self.audit.setdefault(referral_id.encode(), {})[(chain, seq)] = value
        # else a rejection's chain (no referral to attach to) or not an audit event at all

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
        raise RuntimeError("the audit topic or the triage changelog does not exist; create the topics first")


def _audit_event(raw: bytes) -> AuditEvent | None:
    try:
        return decode(raw, AuditEvent)
    except ValidationError:  # not ours to dead-letter: the topic's writers are our own services
        log.error("audit_event_unreadable_in_read_model")
        return None
