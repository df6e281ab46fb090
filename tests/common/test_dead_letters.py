"""The dead letter of a message nothing can process: bounded, hashed, audited the same way every time."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from schemas.audit import AuditAction
from schemas.codec import encode
from services.common.audit_keys import AuditKeyring
from services.common.audit_verify import verify_chains
from services.common.dead_letters import MAX_KEY_BYTES, Source, dead_letter_key, dead_letter_record

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
SOURCE = Source(topic="triage.actions", partition=1, offset=42, timestamp=T0)
FIVE_MB = 5 * 1024 * 1024


def test_five_megabytes_of_poison_make_a_dead_letter_well_under_the_broker_limit() -> None:
    """5 MB of \\x01 (six characters each once JSON-escaped): the encoded dead letter is under 600 kB and
    carries the whole value's length and SHA-256."""
    raw = b"\x01" * FIVE_MB
    record, _ = dead_letter_record("triage", SOURCE, raw, "invalid_message", 1, T0)
    assert len(encode(record)) < 600_000
    assert record.raw.length == FIVE_MB and record.raw.truncated
    assert record.raw.sha256 == hashlib.sha256(raw).hexdigest()
    assert (record.topic, record.partition, record.offset) == ("triage.actions", 1, 42)


def test_the_audit_event_names_the_source_and_the_hash_never_the_bytes() -> None:
    """One dead_lettered event on its own chain, with position, reason, length and hash only."""
    record, event = dead_letter_record("notify", SOURCE, b'{"given_name": "Zoe"}', "invalid_message", 2, T0)
    assert event.action == AuditAction.dead_lettered and event.emitted_by == "notify" and event.seq == 1
    assert event.chain == "notify:dead-letter:triage.actions:1:42" and event.referral_id is None
    assert event.details == {
        "source_topic": "triage.actions",
        "partition": 1,
        "offset": 42,
        "reason": "invalid_message",
        "error_count": 2,
        "raw_length": record.raw.length,
        "raw_sha256": record.raw.sha256,
    }
    assert "Zoe" not in encode(event).decode()


def test_a_redelivered_message_gives_the_identical_audit_event() -> None:
    """Dead-lettered again later (a redelivery), the audit event is the same, so the chain never forks."""
    _, first = dead_letter_record("triage", SOURCE, b"junk", "invalid_message", 1, T0)
    _, again = dead_letter_record("triage", SOURCE, b"junk", "invalid_message", 1, T0 + timedelta(hours=1))
    assert first == again
    keys = AuditKeyring.of("triage-1", "a-long-random-triage-audit-key")
    assert not verify_chains([keys.sign(first), keys.sign(again)], keys).problems


def test_a_long_key_is_replaced_by_its_hash() -> None:
    """Keys up to MAX_KEY_BYTES are kept; a longer one becomes its SHA-256, so the record stays small."""
    assert dead_letter_key(None) is None
    assert dead_letter_key(b"k" * MAX_KEY_BYTES) == b"k" * MAX_KEY_BYTES
    long_key = b"k" * (MAX_KEY_BYTES + 1)
    assert dead_letter_key(long_key) == hashlib.sha256(long_key).hexdigest().encode()
