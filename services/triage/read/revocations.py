"""Revoked console sessions, in the read model's database so every triage replica sharing it sees them.

The one table of the read model the projector does not write: the console's sign-out adds a row, and every
signed-in request asks whether its session has one. A row goes once its session would have expired anyway
(deleted with each new revocation), so the table holds at most the sessions signed out in the last
session lifetime. Rows name a session by the SHA-256 of its nonce, never the nonce itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.triage.read.tables import revoked_sessions


class SessionRevocations:
    """Revokes sessions and answers whether one is revoked; `now` is an argument (no clock reads)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def revoke(self, session_hash: str, expires_at: datetime, now: datetime) -> None:
        """Record the session as revoked until it expires, and forget the revocations already expired."""
        try:
            async with self.engine.begin() as connection:
                await connection.execute(delete(revoked_sessions).where(revoked_sessions.c.expires_at <= now))
                known = await connection.scalar(
                    select(revoked_sessions.c.session_hash).where(revoked_sessions.c.session_hash == session_hash)
                )
                if known is None:
                    await connection.execute(
                        insert(revoked_sessions).values(session_hash=session_hash, expires_at=expires_at)
                    )
        except IntegrityError:  # revoked meanwhile by another request or replica: revoked all the same
            pass

    async def is_revoked(self, session_hash: str) -> bool:
        async with self.engine.connect() as connection:
            found = await connection.scalar(
                select(revoked_sessions.c.session_hash).where(revoked_sessions.c.session_hash == session_hash)
            )
        return found is not None

    async def count(self) -> int:
        """How many revocations are kept (expired ones included until the next revocation clears them)."""
        async with self.engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(revoked_sessions)) or 0)
