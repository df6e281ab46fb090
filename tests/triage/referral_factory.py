"""Build valid `Referral` objects for tests, changing only what a test is about.

    from tests.triage.referral_factory import build_referral
    referral = build_referral(concerns=["domestic_abuse"], age=17, dash_score=15)

Every person here is fictitious. Keyword arguments name the submission's facts; `submission`
takes a dict merged over the whole submission for anything else.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from schemas.identity import referral_id_for
from schemas.referral import Referral
from schemas.submission import ReferralSubmission

SUBMITTED_AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def submission_dict(
    *,
    concerns: list[str] | tuple[str, ...] = ("domestic_abuse",),
    role: str = "victim",
    age: int | None = 30,
    date_of_birth: date | None = None,
    agency: str = "police",
    reference: str = "HC-2026-000123",
    district: str | None = "stevenage",
    dash_score: int | None = None,
    risk_level: str | None = None,
    immediate_danger: bool = False,
    children_under_18: int | None = None,
    release_date: date | None = None,
    consent_obtained: bool = True,
    consent_basis: str | None = "consent",
    safe_to_contact: bool | None = True,
    submitted_at: datetime = SUBMITTED_AT,
    submission: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A referral submission v1 as JSON-ready data."""
    body: dict[str, Any] = {
        "schema_version": "1",
        "source": {
            "agency": agency,
            "organisation": f"Example {agency} service",
            "system": f"dev-{agency}",
            "reference": reference,
            "referrer": {"name": "Officer Example", "role": "duty officer", "email": "duty@example.org"},
        },
        "subject": {
            "given_name": "Alex",
            "family_name": "Example",
            "date_of_birth": date_of_birth.isoformat() if date_of_birth else None,
            "age": age,
            "postcode": "SG1 9ZZ",
            "district": district,
            "safe_to_contact": safe_to_contact,
        },
        "role": role,
        "concerns": list(concerns),
        "risk": {"dash_score": dash_score, "level": risk_level, "immediate_danger": immediate_danger},
        "household": {"children_under_18": children_under_18},
        "custody": {"release_date": release_date.isoformat() if release_date else None},
        "consent": {"obtained": consent_obtained, "basis": consent_basis},
        "narrative": "Fictitious narrative for a test.",
        "submitted_at": submitted_at.isoformat(),
    }
    for key, value in (submission or {}).items():
        body[key] = {**body[key], **value} if isinstance(value, dict) and key in body else value
    return body


def build_submission(**facts: Any) -> ReferralSubmission:
    """A valid `ReferralSubmission`; see `submission_dict` for the keyword arguments."""
    return ReferralSubmission.model_validate(submission_dict(**facts))


def build_referral(
    *,
    accepted_at: datetime | None = None,
    subject_key: str | None = None,
    partner_id: str = "dev-partner",
    **facts: Any,
) -> Referral:
    """A valid accepted `Referral`; accepted when submitted unless `accepted_at` says otherwise."""
    submission = build_submission(**facts)
    referral_id = referral_id_for(submission.source.system, submission.source.reference)
    accepted = accepted_at or submission.submitted_at
    return Referral(
        referral_id=referral_id,
        submission_id=f"sub-{referral_id[:8]}",
        partner_id=partner_id,
        channel="http",
        received_at=accepted,
        accepted_at=accepted,
        subject_key=subject_key,
        submission=submission,
    )
