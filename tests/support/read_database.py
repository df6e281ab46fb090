"""A fresh read-model database per test: a SQLite file always, PostgreSQL where one answers on 127.0.0.1:5432.

Each PostgreSQL test gets its own database (a random name), dropped afterwards, so parallel runs never meet.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test"}
KINDS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Consumed:
    """A record as the projector reads it (the fields of aiokafka's ConsumerRecord it uses)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


async def postgres_missing() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None when they can."""
    try:
        connection = await asyncpg.connect(**POSTGRES, timeout=3)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return (
            f"no PostgreSQL with trust auth for user postgres, database test on 127.0.0.1:5432 ({type(exc).__name__})"
        )
    await connection.close()
    return None


@contextlib.asynccontextmanager
async def fresh_database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """The SQLAlchemy URL of an empty database of `kind` (skipping the test if PostgreSQL is missing)."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'read-model.sqlite'}"
        return
    reason = await postgres_missing()
    if reason is not None:
        pytest.skip(reason)
    name = f"sosafe_read_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(**POSTGRES)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"postgresql+asyncpg://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{name}"
    finally:
        admin = await asyncpg.connect(**POSTGRES)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
