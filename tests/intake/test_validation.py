"""Validation errors name the field and the rule, and never quote what was submitted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.intake.validation import SubmissionInvalid, validate_submission
from tests.support.payloads import submission

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def errors_for(**overrides: object) -> list[tuple[str, str, str]]:
    body = submission(submitted_at="2026-03-02T09:00:00Z", **overrides)
    with pytest.raises(SubmissionInvalid) as caught:
        validate_submission(body, NOW)
    return [(e.loc, e.code, e.message) for e in caught.value.errors]


@pytest.mark.parametrize(
    "address",
    [
        "zq@exa_mple.net",
        "Quillfeather Marchbanks@example.net",
        "zeph<yrine>@example.net",
        "zephyrine@@example.net",
        "zephyrine",
    ],
)
def test_an_invalid_email_address_is_named_without_quoting_its_characters(address: str) -> None:
    """The e-mail validator's own wording lists the offending characters; the message keeps only the rule."""
    [(loc, code, message)] = errors_for(subject__email=address)
    assert (loc, code, message) == ("subject.email", "value_error", "value is not a valid email address")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject__date_of_birth", "Zephyrine-1987"),
        ("subject__postcode", "Zephyrine!"),
        ("subject__age", "Zephyrine"),
        ("role", "Zephyrine"),
        ("subject__phone", "Zephyrine"),
        ("source__reference", "Zephyrine Marchbanks"),
        ("concerns", ["Zephyrine"]),
    ],
)
def test_no_validation_message_repeats_the_submitted_value(field: str, value: object) -> None:
    """Dates, patterns, numbers and enumerations all answer without the offending value."""
    errors = errors_for(**{field: value})
    assert errors and "Zephyrine" not in repr(errors)
