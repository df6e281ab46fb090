"""A rejected submission on the dead-letter topic `referrals.rejected` (restricted access)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from schemas.base import Message
from schemas.raw_excerpt import RawExcerpt
from schemas.vocabulary import Channel

Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]


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
    reason: Code
    errors: Annotated[list[FieldError], Field(max_length=MAX_FIELD_ERRORS)]
    raw_payload: RawExcerpt
    """The raw value as received: excerpt (a rejected submission is always kept whole), length, SHA-256."""
