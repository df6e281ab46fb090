"""Webhook signatures: HMAC-SHA256 over `"{timestamp}." + body`, checked with a replay window.

Headers on every webhook POST (see docs/webhooks.md for the receiver's side):

- `X-SoSafe-Timestamp: 1795701600` (Unix seconds when it was signed)
- `X-SoSafe-Signature: v1=<hex HMAC-SHA256>` (several comma-separated `v1=` values while a secret rotates)
- `Idempotency-Key: <notification id>` (the same on every retry of one notification)
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Final

SIGNATURE_HEADER: Final = "X-SoSafe-Signature"
TIMESTAMP_HEADER: Final = "X-SoSafe-Timestamp"
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
SIGNATURE_SCHEME: Final = "v1"
REPLAY_TOLERANCE_SECONDS: Final = 300
"""Receivers reject a signature more than 5 minutes old (or from more than 5 minutes ahead)."""


def signed_payload(timestamp: int, body: bytes) -> bytes:
    """What is signed: the timestamp in decimal, a dot, then the body bytes exactly as sent."""
    return f"{timestamp}.".encode() + body


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of the signed payload."""
    return hmac.new(secret, signed_payload(timestamp, body), hashlib.sha256).hexdigest()


def signature_headers(secret: bytes, timestamp: int, body: bytes, idempotency_key: str) -> dict[str, str]:
    """The headers a webhook POST carries."""
    return {
        SIGNATURE_HEADER: f"{SIGNATURE_SCHEME}={sign(secret, timestamp, body)}",
        TIMESTAMP_HEADER: str(timestamp),
        IDEMPOTENCY_HEADER: idempotency_key,
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def verify(
    secret: bytes,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    tolerance: int = REPLAY_TOLERANCE_SECONDS,
) -> bool:
    """True when a `v1` signature matches the body and the timestamp is within `tolerance` of `now`."""
    timestamp_text = _header(headers, TIMESTAMP_HEADER)
    signature_text = _header(headers, SIGNATURE_HEADER)
    if timestamp_text is None or signature_text is None or not timestamp_text.isascii():
        return False
    if not timestamp_text.isdigit():
        return False
    timestamp = int(timestamp_text)
    if abs(now.timestamp() - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    matched = False
    for part in signature_text.split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == SIGNATURE_SCHEME:
            matched |= hmac.compare_digest(expected.encode(), value.strip().encode())
    return matched
