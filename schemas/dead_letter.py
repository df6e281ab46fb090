"""`DeadLetter` on `messages.dead`: a message triage or notify could not process, kept with its bytes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, StringConstraints

from schemas.base import Message


class DeadLetter(Message):
    dead_letter_version: Literal["1"] = "1"
    service: Literal["intake", "triage", "notify"]
    topic: Annotated[str, StringConstraints(max_length=200)]
    partition: int
    offset: int
    reason: Annotated[str, StringConstraints(max_length=64)]
    error_count: int
    failed_at: AwareDatetime
    raw: Annotated[str, StringConstraints(max_length=200_000)]
    """The raw value as text (undecodable bytes replaced); restricted access, like `referrals.rejected`."""
