"""A rejected submission on the dead-letter topic `referrals.rejected` (restricted access)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, StringConstraints

from schemas.base import Message
from schemas.vocabulary import Channel

Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class FieldError(Message):
    """One broken rule: where (a dotted location), which rule, a message that never echoes the value."""

    loc: Annotated[str, StringConstraints(max_length=300)]
    code: Code
    message: Annotated[str, StringConstraints(max_length=300)]


class ReferralRejected(Message):
    rejection_version: Literal["1"] = "1"
    submission_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    referral_id: str | None
    partner_id: str | None
    channel: Channel
    received_at: AwareDatetime
    rejected_at: AwareDatetime
    reason: Code
    errors: list[FieldError]
    raw_payload: Annotated[str, StringConstraints(max_length=200_000)]
    """The raw bytes as text (undecodable bytes replaced), kept so the sender's data is never lost."""

    raw_extra: dict[str, Any] | None = None
