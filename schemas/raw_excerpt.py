"""`RawExcerpt`: what a dead-letter or rejection record keeps of a message's raw value, bounded in size."""

from __future__ import annotations

import codecs
import hashlib
from typing import Annotated, Final

from pydantic import NonNegativeInt, StringConstraints

from schemas.base import Message

EXCERPT_BYTES: Final = 96 * 1024
"""Bytes of the raw value kept. A submission body is at most 64 KiB (`MAX_BODY_BYTES`) and its envelope on
`referrals.submitted` adds a few hundred bytes, so a rejected submission is always kept whole; even if every
kept byte JSON-escapes to six characters (`\\u0001`) the record stays far below the broker's 1 MB limit."""


class RawExcerpt(Message):
    """The first `EXCERPT_BYTES` bytes of a raw value as text, with the whole value's length and SHA-256.

    Undecodable bytes are replaced (U+FFFD), so `excerpt` is exact only for UTF-8; `sha256` identifies the
    whole value, which stays on its source topic, partition and offset until that topic's retention ends.
    Restricted access: the excerpt may hold personal data."""

    excerpt: Annotated[str, StringConstraints(max_length=EXCERPT_BYTES)]
    length: NonNegativeInt
    """Bytes in the whole raw value."""
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    """SHA-256 (hex) of the whole raw value."""
    truncated: bool
    """True when `excerpt` holds only the first `EXCERPT_BYTES` bytes."""


def raw_excerpt(raw: bytes) -> RawExcerpt:
    """What a dead-letter record keeps of `raw`: a bounded excerpt, the length and the hash of all of it."""
    truncated = len(raw) > EXCERPT_BYTES
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    # not final when cut: a character split by the cut is left out rather than replaced
    excerpt = decoder.decode(raw[:EXCERPT_BYTES], final=not truncated)
    return RawExcerpt(excerpt=excerpt, length=len(raw), sha256=hashlib.sha256(raw).hexdigest(), truncated=truncated)
