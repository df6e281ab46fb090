"""The log redaction processor keeps personal data out of every line."""

from __future__ import annotations

import json
import logging

import pytest
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


PERSONAL_KEYS_TO_REDACT = [
    "given_name",
    "family_name",
    "name",
    "full_name",
    "date_of_birth",
    "dob",
    "birth_date",
    "postcode",
    "email",
    "phone",
    "narrative",
    "payload",
    "raw_payload",
    "raw",
    "body",
    "subject",
    "referrer",
    "address",
    "token",
    "authorization",
    "password",
    "secret",
]
"""Written out here, not read from the module, so a key dropped from the processor fails a test."""

DATE_OF_BIRTH_KEYS = ["date_of_birth", "dob", "birth_date", "Date_Of_Birth", "DOB", "Birth_Date"]


@pytest.mark.parametrize("key", PERSONAL_KEYS_TO_REDACT)
def test_each_personal_key_is_redacted_at_the_top_of_a_log_line(key: str) -> None:
    """A personal key passed straight to the logger loses its value."""
    out = redact_personal_data(None, "info", {"event": "x", key: "2010-11-27 Zephyrine"})
    assert out[key] == REDACTED


@pytest.mark.parametrize("key", PERSONAL_KEYS_TO_REDACT)
def test_each_personal_key_is_redacted_inside_a_nested_mapping(key: str) -> None:
    """A personal key inside a dict inside a list inside a dict loses its value."""
    out = redact_personal_data(None, "info", {"event": "x", "extra": {"items": [{key: "2010-11-27"}]}})
    assert out["extra"]["items"][0][key] == REDACTED


@pytest.mark.parametrize("key", DATE_OF_BIRTH_KEYS)
def test_a_date_of_birth_is_redacted_under_any_of_its_names_and_cases(key: str) -> None:
    """date_of_birth, dob and birth_date, in any letter case, at the top and nested."""
    out = redact_personal_data(None, "info", {"event": "x", key: "2010-11-27", "subject_facts": {key: "2010-11-27"}})
    assert out[key] == REDACTED and out["subject_facts"][key] == REDACTED
    assert "2010-11-27" not in json.dumps(out)


def test_keys_that_are_not_personal_keep_their_values() -> None:
    """Ids, services, counts and outcomes pass through unchanged, at the top and nested."""
    event = {
        "event": "referral_admitted",
        "referral_id": "r-1",
        "outcome": "accepted",
        "attempt": 2,
        "flags": ["marac"],
        "extra": {"service": "sada", "due": None, "ok": True},
    }
    out = redact_personal_data(None, "info", {**event})
    assert out == event


def test_personal_patterns_inside_nested_lists_tuples_and_sets_are_scrubbed() -> None:
    """Free text is scrubbed inside every kind of collection, which comes out as a list."""
    mail = "zephyrine.qm@example.net"
    out = redact_personal_data(
        None, "info", {"event": "x", "a": [mail], "b": (mail,), "c": {mail}, "d": frozenset({mail})}
    )
    assert out["a"] == out["b"] == out["c"] == out["d"] == [REDACTED]


def test_a_value_nested_deeper_than_six_levels_is_redacted_whole() -> None:
    """Past six levels of nesting the processor gives up looking and drops the value."""
    deep: object = "kept"
    for _ in range(7):
        deep = {"level": deep}
    out = redact_personal_data(None, "info", {"event": "x", "deep": deep})
    value = out["deep"]
    for _ in range(6):
        value = value["level"]
    assert value == {"level": REDACTED}


def test_a_value_nested_six_levels_deep_is_still_read() -> None:
    """At six levels of nesting non-personal text is kept and personal keys are still redacted."""
    deep: object = {"service": "sada", "postcode": "SG1 9ZZ"}
    for _ in range(5):
        deep = {"level": deep}
    out = redact_personal_data(None, "info", {"event": "x", "deep": deep})
    value = out["deep"]
    for _ in range(5):
        value = value["level"]
    assert value == {"service": "sada", "postcode": REDACTED}


def test_the_timestamp_is_left_as_it_is() -> None:
    """The timestamp is the processor chain's own field and is never scrubbed."""
    out = redact_personal_data(None, "info", {"event": "x", "timestamp": "01234 567890"})
    assert out["timestamp"] == "01234 567890"


@pytest.mark.parametrize(
    "text",
    ["SG1 9ZZ", "sg19zz", "AL10 9AB", "07700 900123", "+44 7700 900123", "01438-737-123", "a.b+c@mail.example.org"],
)
def test_each_personal_pattern_is_scrubbed_from_free_text(text: str) -> None:
    """Postcodes (any case, with or without the space), phone numbers and e-mail addresses are replaced."""
    out = redact_personal_data(None, "info", {"event": f"contact {text} today"})
    assert out["event"] == f"contact {REDACTED} today"


def test_nesting_in_lists_counts_towards_the_six_levels() -> None:
    """A string inside seven lists is dropped whole; inside six it is read and kept."""
    seven: object = "kept"
    for _ in range(7):
        seven = [seven]
    six: object = "kept"
    for _ in range(6):
        six = [six]
    out = redact_personal_data(None, "info", {"event": "x", "seven": seven, "six": six})
    assert out["seven"] == [[[[[[[REDACTED]]]]]]] and out["six"] == [[[[[["kept"]]]]]]
