"""Alembic's environment for the read model.

Start-up runs the migrations through `services.triage.read.database.migrate`, which hands over its
connection; the `alembic` command (`alembic -c services/triage/read/alembic.ini upgrade head`) opens the
database named by `SOSAFE_READ_MODEL_URL` (or the SQLite default) itself.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, text

from services.triage.read.tables import metadata

MIGRATION_LOCK = 7_270_011
"""PostgreSQL advisory lock held while migrating, so replicas starting together migrate one at a time."""


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    from services.triage.read.database import read_model_url
    from services.triage.settings import TriageSettings

    return read_model_url(TriageSettings())


async def _run_from_command_line() -> None:
    from services.triage.read.database import open_engine

    engine = open_engine(_url(), writer=True)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


given = context.config.attributes.get("connection")
if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif given is not None:
    _run(given)
else:
    asyncio.run(_run_from_command_line())
