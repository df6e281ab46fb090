"""Referral submission v1 (contract): what a partner sends."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, EmailStr, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

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
SPECIAL_USE_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")
"""Domains that can never receive e-mail, which the e-mail validator refuses (RFC 6761 and its kin)."""


def _any_case(word: str) -> str:
    return "".join(f"[{letter}{letter.upper()}]" for letter in word)


EMAIL_DOMAIN_RULE = (
    r"^[^@]+@(?!(?:.+\.)?(?:" + "|".join(_any_case(name) for name in SPECIAL_USE_DOMAINS) + r")$)"
    r"[^@\[\]]+\.[A-Za-z][A-Za-z0-9-]*$"
)
"""What the e-mail validator asks of the domain beyond `format: email`, as JSON Schema can say it: a name
with a period, a top-level label starting with a letter, and no special-use name."""

Email = Annotated[
    EmailStr,
    StringConstraints(max_length=254),
    Field(
        json_schema_extra={"pattern": EMAIL_DOMAIN_RULE},
        description=(
            "A deliverable address: the domain has a period and is not a special-use name ("
            + ", ".join(f".{name}" for name in SPECIAL_USE_DOMAINS)
            + ")."
        ),
    ),
]


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


EARLIEST_BIRTH_DATE = date(1900, 1, 1)
BORN_SINCE_1900 = r"^(19|[2-9][0-9])[0-9]{2}-"
"""The earliest birth date as JSON Schema can say it: a `full-date` whose year is 1900 or later."""


class RuleCode(StrEnum):
    """The codes of the rules intake enforces that JSON Schema cannot express (each field's description
    names its codes), as they appear in a 422's `errors[].code`."""

    concerns_repeat = "concerns_repeat"
    date_of_birth_before_1900 = "date_of_birth_before_1900"
    date_of_birth_after_submitted_at = "date_of_birth_after_submitted_at"
    future_datetime = "future_datetime"


def _refused(code: RuleCode, message: str) -> PydanticCustomError:
    return PydanticCustomError(code.value, message)


class Subject(Message):
    given_name: Name | None = None
    family_name: Name | None = None
    date_of_birth: Annotated[
        date | None,
        Field(
            json_schema_extra={"pattern": BORN_SINCE_1900},
            description=(
                f"Not before {EARLIEST_BIRTH_DATE.isoformat()} (code `{RuleCode.date_of_birth_before_1900}`) and not "
                f"after the date of `submitted_at` (code `{RuleCode.date_of_birth_after_submitted_at}`)."
            ),
        ),
    ] = None
    age: Annotated[int, Field(ge=0, le=120)] | None = None
    gender: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    postcode: Postcode | None = None
    district: District | None = None
    phone: Phone | None = None
    email: Email | None = None
    safe_to_contact: bool | None = None
    interpreter_language: Language | None = None

    @field_validator("date_of_birth")
    @classmethod
    def _born_since_1900(cls, value: date | None) -> date | None:
        if value is not None and value < EARLIEST_BIRTH_DATE:
            raise _refused(RuleCode.date_of_birth_before_1900, "subject.date_of_birth is before 1900")
        return value


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
    concerns: Annotated[
        list[Concern],
        Field(
            min_length=1,
            max_length=len(Concern),
            json_schema_extra={"uniqueItems": True},
            description=f"Each concern at most once; a repeated value is refused (code `{RuleCode.concerns_repeat}`).",
        ),
    ]
    risk: Risk = Risk()
    household: Household = Household()
    custody: Custody = Custody()
    consent: Consent
    narrative: Narrative | None = None
    submitted_at: Annotated[
        AwareDatetime,
        Field(
            description=(
                "With a time zone. At most "
                f"{FUTURE_TOLERANCE.total_seconds() / 60:.0f} minutes after the time intake receives the referral "
                f"(code `{RuleCode.future_datetime}`)."
            )
        ),
    ]

    @field_validator("concerns")
    @classmethod
    def _concerns_once_each(cls, value: list[Concern]) -> list[Concern]:
        if len(set(value)) != len(value):
            raise _refused(RuleCode.concerns_repeat, "concerns repeat a value")
        return value

    @model_validator(mode="after")
    def _born_before_submitted(self) -> ReferralSubmission:
        dob = self.subject.date_of_birth
        if dob is not None and dob > self.submitted_at.date():
            raise _refused(RuleCode.date_of_birth_after_submitted_at, "subject.date_of_birth is after submitted_at")
        return self

    def check_not_from_future(self, now: datetime) -> None:
        """Raise ValueError when `submitted_at` is later than `now` allows (a partner clock or a typo).

        Compared as aware datetimes, never converted: a far-off year with an offset would overflow."""
        if self.submitted_at > now + FUTURE_TOLERANCE:
            raise ValueError("submitted_at is in the future")
