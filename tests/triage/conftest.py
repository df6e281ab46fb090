"""Fixtures for the triage tests: the shipped ruleset, loaded once; a read-model database per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.triage.read.database import migrate
from services.triage.ruleset import DEFAULT_RULESET_PATH, Ruleset, load_ruleset
from tests.support.read_database import KINDS, fresh_database


@pytest.fixture(scope="session")
def default_ruleset() -> Ruleset:
    return load_ruleset(DEFAULT_RULESET_PATH)


@pytest.fixture(params=KINDS)
async def read_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty, migrated read-model database: SQLite, and PostgreSQL where one answers."""
    async with fresh_database(request.param, tmp_path) as url:
        await migrate(url)
        yield url
