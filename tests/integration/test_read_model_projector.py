"""The projector on the real broker: killed mid-batch it resumes without duplicating or missing rows.

The fault is injected by the database itself (a trigger that fails an insert once enough audit events are
stored), between two rows of one batch's transaction; the projector's own code is not touched. Each test
runs on SQLite, and on PostgreSQL where one answers on 127.0.0.1:5432 (skipped, saying why, if not).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.audit import AuditEvent
from schemas.codec import decode, encode
from schemas.vocabulary import Service
from services.common.broker import EmbeddedBroker, create_topics
from services.common.topics import AUDIT, OUTCOMES
from services.triage.cases.case import Case, ItemState
from services.triage.cases.referral_state import ReferralState
from services.triage.read.database import open_engine
from services.triage.read.projection import CASES, stored_offsets
from services.triage.read.projector import Projector
from services.triage.read.tables import audit_events, referrals
from tests.support.read_records import queued, referral_id_of, with_item

pytestmark = pytest.mark.integration

PARTITIONS = 2
FAIL_AT_EVENTS = 25
"""The injected fault fails the insert that would store the 26th audit event."""

SQLITE_FAULT = f"""
CREATE TRIGGER injected_fault BEFORE INSERT ON audit_events
WHEN (SELECT count(*) FROM audit_events) >= {FAIL_AT_EVENTS}
BEGIN SELECT RAISE(ABORT, 'injected fault'); END
"""
POSTGRES_FAULT = (
    f"""
CREATE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(*) FROM audit_events) >= {FAIL_AT_EVENTS} THEN RAISE EXCEPTION 'injected fault'; END IF;
  RETURN NEW;
END $$
""",
    "CREATE TRIGGER injected_fault BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION injected_fault()",
)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of its own per test: the projector follows fixed topic names."""
    started = EmbeddedBroker(log_path=tmp_path / "broker.log")
    started.start()
    asyncio.run(create_topics(started.bootstrap, PARTITIONS, [CASES, AUDIT, OUTCOMES]))
    yield started
    started.stop()


@dataclass
class Produced:
    """The history as sent: each record's value and where it landed."""

    states: list[tuple[int, int, ReferralState]] = field(default_factory=list)
    events: list[tuple[int, int, AuditEvent]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.states) + len(self.events)

    def below(self, offsets: dict[tuple[str, int], int]) -> tuple[set[tuple[str, int]], dict[str, Case | None]]:
        """The audit events and latest cases the records below `offsets` make."""
        chains = {(e.chain, e.seq) for p, o, e in self.events if o < offsets.get((AUDIT, p), 0)}
        cases = {referral_id_of(s): s.case for p, o, s in self.states if o < offsets.get((CASES, p), 0)}
        return chains, cases


def history() -> tuple[list[ReferralState], list[AuditEvent]]:
    """Twelve referrals triaged (two or three audit events each), four of them later claimed."""
    states, events = [], []
    for n in range(12):
        state, made = queued(f"RM-P{n}", Service.sada, *([Service.sos] if n % 2 else []))
        states.append(state)
        events.extend(made)
    states.extend(with_item(state, Service.sada, ItemState.claimed) for state in states[:4])
    return states, events


async def produce_history(bootstrap: str) -> Produced:
    """Send the history, one record per batch (as the services do on the embedded broker)."""
    states, events = history()
    produced = Produced()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    try:
        for state in states:
            sent = await producer.send_and_wait(CASES, encode(state), key=referral_id_of(state).encode())
            produced.states.append((sent.partition, sent.offset, state))
        for event in events:
            sent = await producer.send_and_wait(AUDIT, encode(event), key=(event.referral_id or "").encode())
            produced.events.append((sent.partition, sent.offset, event))
    finally:
        await producer.stop()
    return produced


async def inject_fault(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            for statement in POSTGRES_FAULT:
                await connection.execute(text(statement))
        else:
            await connection.execute(text(SQLITE_FAULT))


async def remove_fault(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "DROP TRIGGER injected_fault" + (" ON audit_events" if connection.dialect.name == "postgresql" else "")
            )
        )


async def stored(
    engine: AsyncEngine,
) -> tuple[set[tuple[str, int]], dict[str, Case | None], dict[tuple[str, int], int]]:
    """The audit events' (chain, seq), each referral's stored case, and the offsets."""
    async with engine.connect() as connection:
        chains = {
            (row.chain, row.seq) for row in await connection.execute(select(audit_events.c.chain, audit_events.c.seq))
        }
        cases = {
            row.referral_id: decode(row.case_state.encode(), Case) if row.case_state else None
            for row in await connection.execute(select(referrals))
        }
        count = await connection.scalar(select(func.count()).select_from(audit_events))
        assert count == len(chains)
        return chains, cases, await stored_offsets(connection)


async def run_until_caught_up(projector: Projector, timeout: float = 30.0) -> None:
    task = asyncio.create_task(projector.follow())
    try:
        waiting = asyncio.create_task(projector.caught_up.wait())
        done, _ = await asyncio.wait({task, waiting}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        assert waiting in done, "the projector did not catch up"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_projector_killed_mid_batch_resumes_without_duplicating_or_missing_rows(
    broker: EmbeddedBroker, read_url: str
) -> None:
    """The failed batch leaves no rows and no offsets; the next projector starts at the last commit and
    applies every remaining record once: together the two applied each record exactly once."""
    produced = await produce_history(broker.bootstrap)
    engine = open_engine(read_url, writer=True)
    try:
        await inject_fault(engine)
        first = Projector(engine, broker.bootstrap, max_records=10)
        with pytest.raises(DBAPIError, match="injected fault"):
            await asyncio.wait_for(first.follow(), 30)
        chains, cases, offsets = await stored(engine)
        assert 0 < len(chains) <= FAIL_AT_EVENTS < len(produced.events)
        assert (chains, cases) == produced.below(offsets), "rows and offsets were committed together"
        assert first.applied == sum(offsets.values())

        await remove_fault(engine)
        second = Projector(engine, broker.bootstrap, max_records=10)
        await run_until_caught_up(second)
        assert {(tp.topic, tp.partition): at for tp, at in second.started_from.items() if at} == offsets
        chains, cases, final = await stored(engine)
        assert (chains, cases) == produced.below(final)
        assert len(chains) == len(produced.events) and sum(final.values()) == produced.total
        assert cases[referral_id_of(produced.states[0][2])].items[Service.sada].state == ItemState.claimed
        assert first.applied + second.applied == produced.total
    finally:
        await engine.dispose()


async def test_two_projectors_sharing_a_database_store_each_record_once(broker: EmbeddedBroker, read_url: str) -> None:
    """Two replicas' projectors on one database, running together: every row once, every record applied once."""
    produced = await produce_history(broker.bootstrap)
    engines = [open_engine(read_url, writer=True), open_engine(read_url, writer=True)]
    try:
        projectors = [Projector(engine, broker.bootstrap, max_records=5) for engine in engines]
        await asyncio.gather(*(run_until_caught_up(projector) for projector in projectors))
        chains, cases, offsets = await stored(engines[0])
        assert (chains, cases) == produced.below(offsets)
        assert len(chains) == len(produced.events) and sum(offsets.values()) == produced.total
        assert sum(projector.applied for projector in projectors) == produced.total
    finally:
        for engine in engines:
            await engine.dispose()
