"""Fixtures for the triage tests: the shipped ruleset, loaded once."""

from __future__ import annotations

import pytest

from services.triage.routing.ruleset import DEFAULT_RULESET_PATH, Ruleset, load_ruleset


@pytest.fixture(scope="session")
def default_ruleset() -> Ruleset:
    return load_ruleset(DEFAULT_RULESET_PATH)
