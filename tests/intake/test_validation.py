"""What intake says about a submission, that the published documents say the same, and that no message quotes
what was submitted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from schemas.submission import ReferralSubmission, RuleCode
from services.intake.openapi import openapi_document
from services.intake.validation import SubmissionInvalid, validate_submission
from tests.support.payloads import submission

RECEIVED = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ON_TIME = "2026-11-26T10:00:00Z"


def refusal(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(loc, code) of each error intake gives `body`, received at RECEIVED."""
    with pytest.raises(SubmissionInvalid) as raised:
        validate_submission(body, RECEIVED)
    return [(error.loc, error.code) for error in raised.value.errors]


def with_subject(**fields: Any) -> dict[str, Any]:
    body = submission(submitted_at=ON_TIME)
    body["subject"] = {**body["subject"], **fields}
    return body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            submission(submitted_at=ON_TIME, concerns=["domestic_abuse", "hate_crime", "domestic_abuse"]),
            [("concerns", "concerns_repeat")],
        ),
        (with_subject(date_of_birth="1899-12-31"), [("subject.date_of_birth", "date_of_birth_before_1900")]),
        (with_subject(date_of_birth="2026-11-27"), [("(body)", "date_of_birth_after_submitted_at")]),
        (submission(submitted_at="2026-11-26T10:15:01Z"), [("submitted_at", "future_datetime")]),
        (submission(submitted_at="9999-12-31T23:59:59-01:00"), [("submitted_at", "future_datetime")]),
    ],
    ids=[
        "repeated-concern",
        "born-before-1900",
        "born-after-submission",
        "sixteen-minutes-ahead",
        "last-moment-of-9999-west-of-utc",
    ],
)
def test_each_rule_beyond_json_schema_is_refused_with_its_own_code(
    body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    """The field and the documented code, never a generic `value_error` nor a crash on an extreme date."""
    assert refusal(body) == expected


def test_the_edges_of_those_rules_are_accepted() -> None:
    """Born on 1 January 1900 or on the day of submission, submitted 15 minutes ahead: all valid."""
    validate_submission(with_subject(date_of_birth="1900-01-01"), RECEIVED)
    validate_submission(with_subject(date_of_birth="2026-11-26"), RECEIVED)
    validate_submission(submission(submitted_at="2026-11-26T10:15:00Z"), RECEIVED)


def published_schema() -> dict[str, Any]:
    """The submission's JSON Schema, as the OpenAPI document and `/v1/schema` publish it."""
    return ReferralSubmission.model_json_schema()


def test_the_json_schema_says_concerns_are_unique_and_born_since_1900() -> None:
    """What JSON Schema can express it does: a repeated concern and a pre-1900 birth date are schema-invalid."""
    validator = jsonschema.Draft202012Validator(published_schema())
    assert validator.is_valid(submission(submitted_at=ON_TIME))
    assert not validator.is_valid(submission(submitted_at=ON_TIME, concerns=["hate_crime", "hate_crime"]))
    assert not validator.is_valid(with_subject(date_of_birth="1899-12-31"))
    assert validator.is_valid(with_subject(date_of_birth="1900-01-01"))


def test_every_rule_json_schema_cannot_express_is_described_with_its_code() -> None:
    """Each code appears in a field's description and in the OpenAPI 422 answer."""
    schema = published_schema()
    subject = schema["$defs"]["Subject"]["properties"]
    descriptions = " ".join(
        [
            schema["properties"]["concerns"]["description"],
            schema["properties"]["submitted_at"]["description"],
            subject["date_of_birth"]["description"],
        ]
    )
    answer = openapi_document()["paths"]["/v1/referrals"]["post"]["responses"]["422"]["description"]
    for code in RuleCode:
        assert f"`{code}`" in descriptions
        assert f"`{code}`" in answer
    assert "15 minutes" in schema["properties"]["submitted_at"]["description"]


def errors_for(**overrides: object) -> list[tuple[str, str, str]]:
    body = submission(submitted_at=ON_TIME, **overrides)
    with pytest.raises(SubmissionInvalid) as caught:
        validate_submission(body, RECEIVED)
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


def test_unexpected_fields_are_counted_per_object_and_never_named() -> None:
    """A field's name is partner input too: the errors say how many unexpected fields and where, not which."""
    body = with_subject(zephyrine_marchbanks="x", quillfeather_1987="y")
    body["zephyrine_note"] = "z"
    with pytest.raises(SubmissionInvalid) as caught:
        validate_submission(body, RECEIVED)
    errors = [(e.loc, e.code, e.message) for e in caught.value.errors]
    assert sorted(errors) == [
        ("(body)", "extra_forbidden", "1 unexpected field in the body"),
        ("subject", "extra_forbidden", "2 unexpected fields in subject"),
    ]
    assert "zephyrine" not in repr(caught.value.errors).lower()
    assert "quillfeather" not in repr(caught.value.errors).lower()


def test_unexpected_fields_are_counted_alongside_the_other_errors() -> None:
    """An unexpected field does not hide a broken rule elsewhere in the same object."""
    body = with_subject(date_of_birth="1899-12-31", zephyrine="x")
    assert sorted(refusal(body)) == [
        ("subject", "extra_forbidden"),
        ("subject.date_of_birth", "date_of_birth_before_1900"),
    ]
