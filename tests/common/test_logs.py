"""Only our own loggers follow SOSAFE_LOG_LEVEL; libraries stay at WARNING or above."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from services.common.logs import configure_logging
from tests.support.payloads import DISTINCTIVE

LIBRARIES = ("faust", "faust.transport.consumer", "mode", "aiokafka.consumer", "aiohttp.access", "asyncio")


def logged_events(capsys: pytest.CaptureFixture[str], *, set_up_line: bool = False) -> list[str]:
    """The events written so far, without the set-up line `configure_logging` writes at DEBUG unless asked."""
    events = [json.loads(line)["event"] for line in capsys.readouterr().out.splitlines() if line.strip()]
    return [event for event in events if set_up_line or event != "logging_configured"]


@pytest.mark.parametrize("library", LIBRARIES)
def test_at_debug_a_library_logs_no_message_value_below_warning(
    library: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Faust logs message values at DEBUG; with SOSAFE_LOG_LEVEL=DEBUG those lines still go nowhere."""
    configure_logging("DEBUG", "test")
    value = f"<Referral given_name={DISTINCTIVE['given_name']}>"
    logging.getLogger(library).debug("message value %s", value)
    logging.getLogger(library).info("message value %s", value)
    logging.getLogger(library).warning("library_warning")
    assert logged_events(capsys) == ["library_warning"]


def test_a_library_that_sets_its_own_level_to_debug_is_still_held_at_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Whatever level a library gives its logger after set-up, the handler drops its records below WARNING."""
    configure_logging("DEBUG", "test")
    logging.getLogger("faust.agents").setLevel(logging.DEBUG)
    logging.getLogger("faust.agents").debug("value %s", DISTINCTIVE["family_name"])
    assert logged_events(capsys) == []


def test_our_own_loggers_follow_the_configured_level(capsys: pytest.CaptureFixture[str]) -> None:
    """At DEBUG our `sosafe.*` debug lines (set-up's own included) are written; at INFO they are not."""
    configure_logging("DEBUG", "test")
    structlog.get_logger("sosafe.triage").debug("case_loaded")
    configure_logging("INFO", "test")
    structlog.get_logger("sosafe.triage").debug("case_reloaded")
    structlog.get_logger("sosafe.triage").info("case_applied")
    assert logged_events(capsys, set_up_line=True) == ["logging_configured", "case_loaded", "case_applied"]
