"""Fixtures shared by every test: the whole system on the real embedded broker; a read-model database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from services.cli.stack import Stack
from services.triage.read.database import migrate
from tests.support.read_database import KINDS, fresh_database


@pytest.fixture
def stack_factory(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """Start a Stack (broker, topics, services as processes) in tmp_path; everything stops afterwards."""
    started: list[Stack] = []

    def start(services: tuple[str, ...] = ("intake",), partitions: int = 2, **kwargs: object) -> Stack:
        stack = Stack(workdir=tmp_path / f"stack{len(started)}", services=services, partitions=partitions, **kwargs)  # type: ignore[arg-type]
        started.append(stack)
        stack.start()
        return stack

    yield start
    for stack in started:
        stack.stop()


@pytest.fixture(params=KINDS)
async def read_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty, migrated read-model database: SQLite, and PostgreSQL where one answers (else skipped)."""
    async with fresh_database(request.param, tmp_path) as url:
        await migrate(url)
        yield url
