"""The canonical `Referral` v1 on `referrals.accepted`: a valid submission plus what intake derived."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, StringConstraints

from schemas.base import Message
from schemas.submission import ReferralSubmission
from schemas.vocabulary import Channel

SubjectKey = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Referral(Message):
    """An accepted referral. `subject_key` is a keyed hash of the subject's names and birth date, never the identity."""

    referral_version: Literal["1"] = "1"
    referral_id: Annotated[str, StringConstraints(min_length=36, max_length=36)]
    submission_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    partner_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    channel: Channel
    received_at: AwareDatetime
    accepted_at: AwareDatetime
    subject_key: SubjectKey | None
    submission: ReferralSubmission
