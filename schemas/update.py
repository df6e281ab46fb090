"""What a referring partner adds to a referral after sending it: new information, or a withdrawal.

Two bodies partners post to intake (`NewInformation` v1 to `/v1/referrals/{id}/updates`, `Withdrawal` v1 to
`/v1/referrals/{id}/withdraw`) and the `ReferralUpdate` v1 intake publishes on `referrals.updates` for
triage, keyed by referral id, carrying exactly one of them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from schemas.base import Message
from schemas.submission import Custody, Household, Narrative
from schemas.vocabulary import Concern, RiskLevel


class UpdateRuleCode(StrEnum):
    """The codes of the rules JSON Schema cannot say, as they appear in a 422's `errors[].code`."""

    update_empty = "update_empty"
    concerns_repeat = "concerns_repeat"
    one_kind_only = "one_kind_only"


class RiskChange(Message):
    """The risk as the referrer now assesses it; each field given replaces the one held."""

    dash_score: Annotated[int, Field(ge=0, le=27)] | None = None
    level: RiskLevel | None = None
    immediate_danger: bool | None = None


class NewInformation(Message):
    """New information about a referral (schema_version "1"): at least one field besides the version.

    `risk`, `household`, `custody` and `safe_to_contact` replace what was held; `concerns` are added to the
    referral's; `narrative_addendum` is appended to the narrative (shown to officers, never logged)."""

    schema_version: Literal["1"]
    risk: RiskChange | None = None
    concerns: Annotated[
        list[Concern],
        Field(
            max_length=15,
            json_schema_extra={"uniqueItems": True},
            description=(
                "Concerns to add; each at most once "
                f"(a repeated value is refused: code `{UpdateRuleCode.concerns_repeat}`)."
            ),
        ),
    ] = Field(default_factory=list)
    household: Household | None = None
    custody: Custody | None = None
    safe_to_contact: bool | None = None
    """Whether the subject may now be contacted safely (replaces `subject.safe_to_contact`)."""
    narrative_addendum: Narrative | None = None

    @field_validator("concerns")
    @classmethod
    def _concerns_once_each(cls, value: list[Concern]) -> list[Concern]:
        if len(set(value)) != len(value):
            raise PydanticCustomError(UpdateRuleCode.concerns_repeat.value, "concerns repeat a value")
        return value

    @model_validator(mode="after")
    def _says_something(self) -> NewInformation:
        fields = (self.risk, self.household, self.custody, self.safe_to_contact, self.narrative_addendum)
        if not self.concerns and all(value is None for value in fields):
            raise PydanticCustomError(UpdateRuleCode.update_empty.value, "the update carries no information")
        return self


class WithdrawalReason(StrEnum):
    """Why a referrer withdraws a referral (a code; free text would be partner input in the audit)."""

    referred_in_error = "referred_in_error"
    consent_withdrawn = "consent_withdrawn"
    support_in_place = "support_in_place"
    moved_out_of_area = "moved_out_of_area"
    duplicate_referral = "duplicate_referral"
    risk_resolved = "risk_resolved"
    other = "other"


class Withdrawal(Message):
    """A referrer's withdrawal of a referral (schema_version "1")."""

    schema_version: Literal["1"]
    reason: WithdrawalReason


class ReferralUpdate(Message):
    """`referrals.updates`: one update from the referring partner, as intake accepted it (exactly one of
    `information` and `withdrawal`). `update_id` is unique per request; triage applies each id once."""

    update_version: Literal["1"] = "1"
    update_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    referral_id: Annotated[str, StringConstraints(min_length=36, max_length=36)]
    partner_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    received_at: AwareDatetime
    information: NewInformation | None = None
    withdrawal: Withdrawal | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ReferralUpdate:
        if (self.information is None) == (self.withdrawal is None):
            raise PydanticCustomError(
                UpdateRuleCode.one_kind_only.value, "an update carries exactly one of information and withdrawal"
            )
        return self
