"""Webhook signatures: HMAC-SHA256 over the timestamp and body, with a five-minute replay window."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from services.notify.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signature_headers,
    verify,
)

SECRET = b"whsec-test-secret"
BODY = b'{"notification_id":"n-1","referral_id":"r-1"}'
SIGNED_AT = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
TIMESTAMP = int(SIGNED_AT.timestamp())


def _headers() -> dict[str, str]:
    return signature_headers(SECRET, TIMESTAMP, BODY, "n-1")


def test_signature_is_hex_hmac_sha256_of_timestamp_dot_body() -> None:
    """The documented recipe, computed independently."""
    expected = hmac.new(SECRET, f"{TIMESTAMP}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert sign(SECRET, TIMESTAMP, BODY) == expected


def test_headers_carry_v1_signature_timestamp_and_idempotency_key() -> None:
    """The three headers a receiver reads."""
    headers = _headers()

    assert headers[SIGNATURE_HEADER] == f"v1={sign(SECRET, TIMESTAMP, BODY)}"
    assert headers[TIMESTAMP_HEADER] == str(TIMESTAMP)
    assert headers[IDEMPOTENCY_HEADER] == "n-1"


def test_signed_request_verifies_within_the_window() -> None:
    """Round trip, two minutes after signing."""
    assert verify(SECRET, _headers(), BODY, SIGNED_AT + timedelta(minutes=2))


def test_header_names_are_matched_case_insensitively() -> None:
    """Proxies and frameworks may lower-case header names."""
    lowered = {name.lower(): value for name, value in _headers().items()}

    assert verify(SECRET, lowered, BODY, SIGNED_AT)


def test_tampered_body_is_rejected() -> None:
    """One changed byte breaks the signature."""
    assert not verify(SECRET, _headers(), BODY.replace(b"r-1", b"r-2"), SIGNED_AT)


def test_wrong_secret_is_rejected() -> None:
    """Only the holder of the service's secret can sign."""
    assert not verify(b"another-secret", _headers(), BODY, SIGNED_AT)


def test_changed_timestamp_is_rejected() -> None:
    """The timestamp is signed too, so it cannot be refreshed to replay an old request."""
    headers = {**_headers(), TIMESTAMP_HEADER: str(TIMESTAMP + 60)}

    assert not verify(SECRET, headers, BODY, SIGNED_AT + timedelta(seconds=60))


def test_signature_older_than_five_minutes_is_rejected() -> None:
    """A replay after the window fails; at exactly five minutes it still passes."""
    assert verify(SECRET, _headers(), BODY, SIGNED_AT + timedelta(seconds=300))
    assert not verify(SECRET, _headers(), BODY, SIGNED_AT + timedelta(seconds=301))


def test_signature_from_more_than_five_minutes_ahead_is_rejected() -> None:
    """A far-future timestamp would otherwise stay replayable for longer."""
    assert not verify(SECRET, _headers(), BODY, SIGNED_AT - timedelta(seconds=301))


def test_any_of_several_v1_signatures_may_match_during_secret_rotation() -> None:
    """`v1=<old>,v1=<new>` verifies with either secret."""
    new = sign(b"new-secret", TIMESTAMP, BODY)
    headers = {**_headers(), SIGNATURE_HEADER: f"v1={sign(SECRET, TIMESTAMP, BODY)}, v1={new}"}

    assert verify(SECRET, headers, BODY, SIGNED_AT)
    assert verify(b"new-secret", headers, BODY, SIGNED_AT)


def test_missing_or_malformed_headers_are_rejected() -> None:
    """No header, a non-numeric timestamp, another scheme, non-ASCII junk: all false, never an error."""
    good = _headers()
    signature = sign(SECRET, TIMESTAMP, BODY)

    assert not verify(SECRET, {TIMESTAMP_HEADER: good[TIMESTAMP_HEADER]}, BODY, SIGNED_AT)
    assert not verify(SECRET, {SIGNATURE_HEADER: good[SIGNATURE_HEADER]}, BODY, SIGNED_AT)
    assert not verify(SECRET, {**good, TIMESTAMP_HEADER: "soon"}, BODY, SIGNED_AT)
    assert not verify(SECRET, {**good, SIGNATURE_HEADER: f"v0={signature}"}, BODY, SIGNED_AT)
    assert not verify(SECRET, {**good, SIGNATURE_HEADER: "v1=é"}, BODY, SIGNED_AT)
