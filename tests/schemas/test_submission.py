"""Submission v1: what is accepted and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from schemas.codec import decode, encode
from schemas.identity import referral_id_for, subject_key_for
from schemas.submission import ReferralSubmission
from tests.support.payloads import submission


def test_the_design_example_is_valid() -> None:
    """A complete submission with every field filled (`tests/support/payloads.py`) validates."""
    model = ReferralSubmission.model_validate(submission())
    assert model.concerns[0] == "domestic_abuse"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("role", "bystander"),
        ("concerns", []),
        ("concerns", ["domestic_abuse", "domestic_abuse"]),
        ("risk__dash_score", 28),
        ("subject__district", "london"),
        ("source__agency", "army"),
        ("consent__basis", "because"),
        ("schema_version", "2"),
        ("narrative", "x" * 20_001),
        ("subject__given_name", "x" * 101),
        ("subject__date_of_birth", "2999-01-01"),
    ],
)
def test_each_broken_rule_is_refused(path: str, value: object) -> None:
    """Enumerations, limits, lengths and date sanity are enforced."""
    with pytest.raises(ValidationError):
        ReferralSubmission.model_validate(submission(**{path: value}))


def test_unknown_top_level_fields_are_refused() -> None:
    """`extra="forbid"`: a field outside the contract is an error, not silently dropped."""
    body = submission()
    body["nickname"] = "x"
    with pytest.raises(ValidationError):
        ReferralSubmission.model_validate(body)


def test_submitted_at_far_in_the_future_is_refused() -> None:
    """A submission dated more than 15 minutes ahead of the receiving clock is refused."""
    model = ReferralSubmission.model_validate(submission(submitted_at="2026-11-26T12:00:00Z"))
    with pytest.raises(ValueError, match="future"):
        model.check_not_from_future(datetime(2026, 11, 26, 11, 0, tzinfo=UTC))
    model.check_not_from_future(datetime(2026, 11, 26, 11, 50, tzinfo=UTC))


def test_codec_round_trips_a_model() -> None:
    """encode then decode gives an equal model."""
    model = ReferralSubmission.model_validate(submission())
    assert decode(encode(model), ReferralSubmission) == model


def test_referral_id_is_deterministic_per_system_and_reference() -> None:
    """The same partner reference always gives the same id; another reference another id."""
    assert referral_id_for("athena", "HC-1") == referral_id_for("athena", "HC-1")
    assert referral_id_for("athena", "HC-1") != referral_id_for("athena", "HC-2")
    assert referral_id_for("athena", "HC-1") != referral_id_for("other", "HC-1")


def test_subject_key_normalises_names_and_needs_all_three_parts() -> None:
    """Case, accents and spacing do not change the key; a missing part gives no key."""
    dob = datetime(2001, 4, 3).date()
    key = subject_key_for(b"k", "Zoë", "O'Brien", dob)
    assert key == subject_key_for(b"k", "ZOE", "obrien", dob)
    assert key != subject_key_for(b"other-key", "Zoë", "O'Brien", dob)
    assert subject_key_for(b"k", "Zoë", None, dob) is None
    assert subject_key_for(b"k", "Zoë", "O'Brien", dob + timedelta(days=1)) != key
