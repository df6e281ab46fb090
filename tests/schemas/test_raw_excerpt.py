"""What a dead-letter or rejection record keeps of a raw value: bounded, hashed, whole when small."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from schemas.codec import encode
from schemas.raw_excerpt import EXCERPT_BYTES, raw_excerpt
from schemas.rejection import MAX_FIELD_ERRORS, FieldError, ReferralRejected, RejectionReason
from schemas.submission import MAX_BODY_BYTES
from schemas.vocabulary import Channel

FIVE_MB = 5 * 1024 * 1024
RECORD_BOUND = 800_000
"""Bytes an encoded record stays under: below Faust's producer limit (1,000,000) and the broker's 1 MB."""
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_an_empty_value_is_kept_whole_with_the_hash_of_nothing() -> None:
    """Empty bytes: an empty excerpt, length 0, the SHA-256 of the empty string, not truncated."""
    kept = raw_excerpt(b"")
    assert (kept.excerpt, kept.length, kept.truncated) == ("", 0, False)
    assert kept.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_a_small_value_is_kept_whole() -> None:
    """UTF-8 text under the limit comes back exactly, with its byte length (not its character count)."""
    raw = '{"given_name": "Zoë"}'.encode()
    kept = raw_excerpt(raw)
    assert kept.excerpt == raw.decode() and kept.length == len(raw) == 22 and not kept.truncated
    assert kept.sha256 == hashlib.sha256(raw).hexdigest()


def test_a_value_exactly_at_the_limit_is_kept_whole() -> None:
    """EXCERPT_BYTES bytes: all kept, not truncated; one byte more is truncated to EXCERPT_BYTES."""
    at_limit = raw_excerpt(b"a" * EXCERPT_BYTES)
    assert len(at_limit.excerpt) == EXCERPT_BYTES and not at_limit.truncated
    over = raw_excerpt(b"a" * (EXCERPT_BYTES + 1))
    assert len(over.excerpt) == EXCERPT_BYTES and over.truncated and over.length == EXCERPT_BYTES + 1


def test_five_megabytes_of_control_bytes_keep_an_excerpt_and_the_whole_length_and_hash() -> None:
    """5 MB of \\x01: the first EXCERPT_BYTES kept; length and SHA-256 are of all 5 MB."""
    raw = b"\x01" * FIVE_MB
    kept = raw_excerpt(raw)
    assert kept.excerpt == "\x01" * EXCERPT_BYTES and kept.truncated
    assert kept.length == FIVE_MB and kept.sha256 == hashlib.sha256(raw).hexdigest()


def test_invalid_utf8_is_replaced_and_hashed_as_received() -> None:
    """Undecodable bytes become U+FFFD; the hash is of the bytes as received, not of the text."""
    raw = b"\xff\xfeabc\x80"
    kept = raw_excerpt(raw)
    assert kept.excerpt == "\ufffd\ufffdabc\ufffd" and kept.length == 6
    assert kept.sha256 == hashlib.sha256(raw).hexdigest()


def test_a_character_cut_by_the_limit_is_left_out_not_replaced() -> None:
    """A two-byte character straddling the limit is dropped from the excerpt rather than garbled."""
    raw = b"a" * (EXCERPT_BYTES - 1) + "é".encode()
    kept = raw_excerpt(raw)
    assert kept.excerpt == "a" * (EXCERPT_BYTES - 1) and kept.truncated


def test_a_rejected_submission_of_the_largest_body_is_kept_whole() -> None:
    """A 64 KiB body in its envelope fits in the excerpt with room to spare."""
    envelope = b'{"envelope_version":"1","submission_id":"' + b"x" * 36 + b'","payload":' + b"a" * MAX_BODY_BYTES
    assert len(envelope) < EXCERPT_BYTES
    assert not raw_excerpt(envelope).truncated


@pytest.mark.parametrize("byte", [b"\x01", b"\xff", b'"'])
def test_the_largest_rejection_record_stays_under_the_bound(byte: bytes) -> None:
    """Every byte escaping to its longest form and the most field errors, each as long as allowed: the
    encoded record is still under RECORD_BOUND."""
    longest = "\x01" * 300
    errors = [FieldError(loc=longest, code="\x01" * 64, message=longest)] * MAX_FIELD_ERRORS
    record = ReferralRejected(
        submission_id="s" * 64,
        referral_id="r" * 64,
        partner_id="p" * 64,
        channel=Channel.kafka,
        received_at=NOW,
        rejected_at=NOW,
        reason=max(RejectionReason, key=len),
        errors=errors,
        raw_payload=raw_excerpt(byte * FIVE_MB),
    )
    assert len(encode(record)) < RECORD_BOUND
