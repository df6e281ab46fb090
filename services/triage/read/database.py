"""Where the read model lives, how to open it, and bringing its schema to the newest migration.

SQLite (through aiosqlite) is the embedded default, one file under the data directory; PostgreSQL (through
asyncpg) serves the cluster. Writers on SQLite take the write lock when their transaction begins (`BEGIN
IMMEDIATE`), so two projectors sharing a file queue for it rather than fail half-way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.triage.settings import TriageSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30.0


def sqlite_file(data_dir: Path) -> Path:
    """The embedded read model's file: fresh with each embedded broker (see `services.cli.stack`)."""
    return data_dir / "read-model" / "triage.sqlite"


def read_model_url(settings: TriageSettings) -> str:
    """`SOSAFE_READ_MODEL_URL`, else the SQLite file under the data directory."""
    if settings.read_model_url is not None:
        return settings.read_model_url.get_secret_value()
    return f"sqlite+aiosqlite:///{sqlite_file(settings.data_dir)}"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def open_engine(url: str, writer: bool = False, **options: Any) -> AsyncEngine:
    """An engine for `url`; `writer` for the projector (on SQLite: WAL, write lock taken at BEGIN)."""
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True, **options)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        if writer:
            dbapi_connection.isolation_level = None  # the "begin" listener below opens each transaction

    if writer:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(url: str) -> None:
    """`alembic upgrade head` on the database at `url`, creating the SQLite file if need be."""
    engine = open_engine(url, writer=True)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade)
    finally:
        await engine.dispose()
