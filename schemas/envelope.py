"""The submission envelope on `referrals.submitted`: who sent what, when, by which channel."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, StringConstraints

from schemas.base import Message
from schemas.vocabulary import Channel


class SubmissionEnvelope(Message):
    """Wraps a raw submission; the payload is validated by the intake agent, not here.

    `partner_id` is set by intake HTTP from the authenticated token; a partner producing straight onto
    Kafka sets it itself (the broker's ACLs are what authenticate that path).
    """

    envelope_version: Literal["1"] = "1"
    submission_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    partner_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    channel: Channel
    received_at: AwareDatetime
    payload: dict[str, Any]
