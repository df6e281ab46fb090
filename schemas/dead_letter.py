"""`DeadLetter` on `messages.dead`: a message triage or notify could not process, kept with an excerpt."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, StringConstraints

from schemas.audit import Emitter
from schemas.base import Message
from schemas.raw_excerpt import RawExcerpt


class DeadLetter(Message):
    """Version 2: `raw` is a bounded `RawExcerpt` (version 1 kept up to 200,000 characters of text, which
    could exceed the broker's message size once JSON-escaped, so the dead letter itself was lost)."""

    dead_letter_version: Literal["2"] = "2"
    service: Emitter
    topic: Annotated[str, StringConstraints(max_length=200)]
    partition: int
    offset: int
    reason: Annotated[str, StringConstraints(max_length=64)]
    error_count: int
    failed_at: AwareDatetime
    raw: RawExcerpt
    """The raw value: excerpt, length and SHA-256; restricted access, like `referrals.rejected`."""
