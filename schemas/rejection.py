"""A rejected submission on the dead-letter topic `referrals.rejected` (restricted access)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from schemas.base import Message
from schemas.raw_excerpt import RawExcerpt
from schemas.vocabulary import Channel

Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class RejectionReason(StrEnum):
    """Why intake rejected a submission: the `reason` of a `ReferralRejected` (and of its audit event)."""

    invalid_json = "invalid_json"
    """An HTTP body that is not JSON."""
    undecodable = "undecodable"
    """A message that is empty, not JSON, or not a JSON object."""
    invalid_envelope = "invalid_envelope"
    """A message with envelope fields that do not make a valid envelope."""
    unknown_partner = "unknown_partner"
    """On intake's `referrals.submitted`: no registered partner has the envelope's id or the source named."""
    unknown_partner_topic = "unknown_partner_topic"
    """A `referrals.submitted.<partner id>` topic of no registered partner (one removed, or made by mistake)."""
    partner_mismatch = "partner_mismatch"
    """The submission claims another partner, agency or system than the one that sent it (its token, or
    the partner topic it was written to)."""
    invalid_submission = "invalid_submission"
    """The submission breaks the submission schema; `errors` name each broken rule."""
    internal_invalid = "internal_invalid"
    """A message on intake's internal topic that is not a referral (a bug or a forged message)."""


class FieldError(Message):
    """One broken rule: where (a dotted location), which rule, a message that never echoes the value."""

    loc: Annotated[str, StringConstraints(max_length=300)]
    code: Code
    message: Annotated[str, StringConstraints(max_length=300)]


MAX_FIELD_ERRORS = 50


class ReferralRejected(Message):
    """Version 2: `raw_payload` is a bounded `RawExcerpt` and `errors` holds at most `MAX_FIELD_ERRORS`
    (version 1 kept up to 200,000 characters of text, which could exceed the broker's message size once
    JSON-escaped, so the rejection itself was lost); `raw_extra`, never written, is gone."""

    rejection_version: Literal["2"] = "2"
    submission_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    referral_id: str | None
    partner_id: str | None
    channel: Channel
    received_at: AwareDatetime
    rejected_at: AwareDatetime
    reason: RejectionReason
    errors: Annotated[list[FieldError], Field(max_length=MAX_FIELD_ERRORS)]
    raw_payload: RawExcerpt
    """The raw value as received: excerpt (a rejected submission is always kept whole), length, SHA-256."""
