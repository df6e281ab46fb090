"""The store of signed-out console sessions in the read model's database: shared by replicas, bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.triage.read.database import open_engine
from services.triage.read.revocations import SessionRevocations

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def test_a_revoked_session_is_seen_by_every_engine_on_the_database_until_it_expires(read_url: str) -> None:
    """One replica signs a session out; another, with its own engine, refuses it. Revocations that have
    expired go with the next one, so the table holds only sessions that could still be presented."""
    first, second = open_engine(read_url), open_engine(read_url)
    try:
        here, there = SessionRevocations(first), SessionRevocations(second)
        assert not await there.is_revoked("a" * 64)
        await here.revoke("a" * 64, NOW + timedelta(hours=8), NOW)
        await here.revoke("a" * 64, NOW + timedelta(hours=8), NOW)  # signing out twice is harmless
        assert await there.is_revoked("a" * 64) and not await there.is_revoked("b" * 64)
        await there.revoke("b" * 64, NOW + timedelta(hours=9), NOW + timedelta(hours=8))
        assert not await here.is_revoked("a" * 64)  # expired: its session is refused on its expiry anyway
        assert await here.is_revoked("b" * 64) and await here.count() == 1
    finally:
        await first.dispose()
        await second.dispose()
