"""The log redaction processor keeps personal data out of every line."""

from __future__ import annotations

import json
import logging

import structlog

from services.common.logs import configure_logging
from services.common.redaction import REDACTED, redact_personal_data
from tests.support.payloads import DISTINCTIVE


def test_personal_keys_are_redacted_at_any_depth() -> None:
    """Names, dates of birth, contact details, postcodes and narratives are replaced."""
    event = {
        "event": "x",
        "given_name": "Zephyrine",
        "extra": {"subject": {"postcode": "SG1 9ZZ"}},
        "items": [{"narrative": "secret"}],
    }
    out = redact_personal_data(None, "info", dict(event))
    assert out["given_name"] == REDACTED and out["extra"]["subject"] == REDACTED
    assert out["items"][0]["narrative"] == REDACTED


def test_personal_patterns_in_free_text_are_scrubbed() -> None:
    """E-mail addresses, postcodes and phone numbers inside a message are replaced."""
    out = redact_personal_data(None, "info", {"event": "mail zephyrine.qm@example.net at SG1 9ZZ on 07700 900123"})
    assert "example.net" not in out["event"] and "SG1 9ZZ" not in out["event"] and "900123" not in out["event"]


def test_configured_logging_redacts_stdlib_and_structlog_lines(capsys) -> None:
    """Both structlog and plain stdlib loggers (Faust, aiokafka) go through the redaction."""
    configure_logging("INFO", "test")
    structlog.get_logger("sosafe.test").info("submission", given_name=DISTINCTIVE["given_name"])
    logging.getLogger("faust.test").warning("contact %s", DISTINCTIVE["email"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    text = json.dumps(lines)
    assert len(lines) == 2
    assert DISTINCTIVE["given_name"] not in text and DISTINCTIVE["email"] not in text
