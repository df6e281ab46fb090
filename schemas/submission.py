"""Referral submission v1 (DESIGN §3, contract): what a partner sends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, EmailStr, Field, StringConstraints, model_validator

from schemas.base import Message
from schemas.vocabulary import Agency, Concern, ConsentBasis, District, RiskLevel, Role

MAX_BODY_BYTES = 64 * 1024
FUTURE_TOLERANCE = timedelta(minutes=15)
"""How far ahead of the receiving clock `submitted_at` may be (clock skew between partners)."""

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/-]+$")]
SystemId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Phone = Annotated[str, StringConstraints(min_length=3, max_length=32, pattern=r"^[0-9 +()-]+$")]
Postcode = Annotated[str, StringConstraints(min_length=2, max_length=10, pattern=r"^[A-Za-z0-9 ]+$")]
Narrative = Annotated[str, StringConstraints(max_length=20_000)]
Language = Annotated[str, StringConstraints(min_length=2, max_length=64)]
Email = Annotated[EmailStr, StringConstraints(max_length=254)]


class Referrer(Message):
    name: Name
    role: ShortText
    email: Email | None = None
    phone: Phone | None = None


class Source(Message):
    agency: Agency
    organisation: ShortText
    system: SystemId
    reference: Reference
    referrer: Referrer


class Subject(Message):
    given_name: Name | None = None
    family_name: Name | None = None
    date_of_birth: date | None = None
    age: Annotated[int, Field(ge=0, le=120)] | None = None
    gender: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    postcode: Postcode | None = None
    district: District | None = None
    phone: Phone | None = None
    email: Email | None = None
    safe_to_contact: bool | None = None
    interpreter_language: Language | None = None


class Risk(Message):
    dash_score: Annotated[int, Field(ge=0, le=27)] | None = None
    level: RiskLevel | None = None
    immediate_danger: bool = False


class Household(Message):
    children_under_18: Annotated[int, Field(ge=0, le=30)] | None = None


class Custody(Message):
    release_date: date | None = None


class Consent(Message):
    obtained: bool
    basis: ConsentBasis | None = None


class ReferralSubmission(Message):
    """One referral as a partner submits it (schema_version "1")."""

    schema_version: Literal["1"]
    source: Source
    subject: Subject
    role: Role
    concerns: Annotated[list[Concern], Field(min_length=1, max_length=15)]
    risk: Risk = Risk()
    household: Household = Household()
    custody: Custody = Custody()
    consent: Consent
    narrative: Narrative | None = None
    submitted_at: AwareDatetime

    @model_validator(mode="after")
    def _dates_are_sane(self) -> ReferralSubmission:
        dob = self.subject.date_of_birth
        if dob is not None and dob > self.submitted_at.date():
            raise ValueError("subject.date_of_birth is after submitted_at")
        if dob is not None and dob < date(1900, 1, 1):
            raise ValueError("subject.date_of_birth is before 1900")
        if len(set(self.concerns)) != len(self.concerns):
            raise ValueError("concerns repeat a value")
        return self

    def check_not_from_future(self, now: datetime) -> None:
        """Raise ValueError when `submitted_at` is later than `now` allows (a partner clock or a typo)."""
        if self.submitted_at.astimezone(UTC) > now + FUTURE_TOLERANCE:
            raise ValueError("submitted_at is in the future")
