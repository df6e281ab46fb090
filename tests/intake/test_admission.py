"""Intake's pure core: validating, admitting once, dead-lettering with field errors."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import orjson
import pytest

from schemas.envelope import SubmissionEnvelope
from schemas.raw_excerpt import EXCERPT_BYTES
from schemas.rejection import FieldError
from schemas.vocabulary import Channel
from services.common.access import Partner, hash_token, load_access
from services.common.rate_limit import RateLimiter
from services.common.settings import DEV_CONFIG
from services.intake.admission import Outcome, admit, rejection, submission_id_for_offset, to_referral
from services.intake.envelopes import open_message
from services.intake.validation import SubmissionInvalid
from tests.support.payloads import submission

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ACCESS = load_access(DEV_CONFIG)
POLICE = next(p for p in ACCESS.partners if p.id == "dev-police")


def envelope(submission_id: str, **overrides: object) -> SubmissionEnvelope:
    body = submission(reference="ADM-1", submitted_at="2026-11-26T09:59:00Z", **overrides)
    return SubmissionEnvelope(
        submission_id=submission_id, partner_id="dev-police", channel="http", received_at=NOW, payload=body
    )


def test_first_submission_is_accepted_then_a_new_one_is_a_duplicate_and_a_redelivery_is_nothing() -> None:
    """accepted, duplicate, then the duplicate redelivered: the same events again, nothing changed."""
    first = admit(None, to_referral(envelope("s1"), POLICE, b"k"))
    assert first.outcome == Outcome.accepted
    assert [e.action for e in first.audit] == ["submitted", "accepted"]
    again = admit(first.record, to_referral(envelope("s2"), POLICE, b"k"))
    assert again.outcome == Outcome.duplicate and [e.seq for e in again.audit] == [3, 4]
    assert again.audit[0].prev_hash == first.audit[-1].hash
    redelivered = admit(again.record, to_referral(envelope("s2"), POLICE, b"k"))
    assert redelivered.redelivered and redelivered.outcome == Outcome.duplicate
    assert redelivered.audit == again.audit and redelivered.record == again.record


def test_an_accepted_referral_is_published_as_accepted() -> None:
    """The first submission of a referral id gives the referral to publish on the accepted topic."""
    referral = to_referral(envelope("s1"), POLICE, b"k")
    assert admit(None, referral).accepted == referral


def test_a_redelivered_accepted_submission_is_published_as_accepted_again() -> None:
    """A worker killed before its send reached the broker: the redelivery gives the accepted referral again."""
    referral = to_referral(envelope("s1"), POLICE, b"k")
    first = admit(None, referral)
    redelivered = admit(first.record, referral)
    assert redelivered.redelivered and redelivered.accepted == referral


def test_a_redelivered_accepted_submission_is_published_again_after_a_later_duplicate() -> None:
    """The accepted submission redelivered after a duplicate was admitted is still published as accepted."""
    referral = to_referral(envelope("s1"), POLICE, b"k")
    duplicate = admit(admit(None, referral).record, to_referral(envelope("s2"), POLICE, b"k"))
    redelivered = admit(duplicate.record, referral)
    assert redelivered.outcome == Outcome.accepted and redelivered.accepted == referral
    assert [e.seq for e in redelivered.audit] == [1, 2]


def test_a_duplicate_is_not_published_as_accepted() -> None:
    """A new submission of a known referral id is audited as a duplicate and not published."""
    first = admit(None, to_referral(envelope("s1"), POLICE, b"k"))
    duplicate = admit(first.record, to_referral(envelope("s2"), POLICE, b"k"))
    assert duplicate.outcome == Outcome.duplicate and duplicate.accepted is None


def test_a_redelivered_duplicate_is_not_published_as_accepted() -> None:
    """Redelivering a duplicate does not turn it into an accepted referral."""
    first = admit(None, to_referral(envelope("s1"), POLICE, b"k"))
    duplicate_referral = to_referral(envelope("s2"), POLICE, b"k")
    again = admit(admit(first.record, duplicate_referral).record, duplicate_referral)
    assert again.redelivered and again.accepted is None


def test_source_must_be_the_submitting_partner() -> None:
    """A hospital token cannot submit a police referral through an envelope either."""
    hospital = next(p for p in ACCESS.partners if p.id == "dev-hospital")
    with pytest.raises(SubmissionInvalid) as caught:
        to_referral(envelope("s1"), hospital, b"k")
    assert caught.value.reason == "partner_mismatch"


def test_bare_submission_from_a_direct_producer_is_wrapped_with_a_stable_id() -> None:
    """No envelope: channel kafka, partner found by source, submission id from topic/partition/offset."""
    raw = envelope("s").model_dump_json().encode()
    opened = open_message(raw, access=ACCESS, topic="t", partition=0, offset=5, timestamp=NOW)
    assert opened.partner.id == "dev-police"

    bare = orjson.dumps(submission(reference="ADM-2"))
    one = open_message(bare, access=ACCESS, topic="t", partition=1, offset=7, timestamp=NOW)
    two = open_message(bare, access=ACCESS, topic="t", partition=1, offset=7, timestamp=NOW)
    assert one.envelope.channel == "kafka" and one.envelope.submission_id == two.envelope.submission_id


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "undecodable"),
        (b"\xff\xfe", "undecodable"),
        (b"[1, 2]", "undecodable"),
        (b'{"payload": 3}', "invalid_envelope"),
        (b'{"source": {"agency": "police", "system": "nope"}}', "unknown_partner"),
    ],
)
def test_unreadable_messages_get_a_reason(raw: bytes, reason: str) -> None:
    """Every kind of bad message is refused with a reason code, never an exception of another kind."""
    with pytest.raises(SubmissionInvalid) as caught:
        open_message(raw, access=ACCESS, topic="t", partition=0, offset=0, timestamp=NOW)
    assert caught.value.reason == reason


def test_rejection_keeps_the_raw_payload_and_audits_it() -> None:
    """The dead-letter record holds the sender's bytes; the audit says submitted then rejected."""
    record, events = rejection(
        submission_id="s9",
        referral_id=None,
        partner_id=None,
        channel=Channel.kafka,
        received_at=NOW,
        rejected_at=NOW,
        reason="undecodable",
        errors=[],
        raw=b"\xffabc",
    )
    assert "abc" in record.raw_payload.excerpt and [e.action for e in events] == ["submitted", "rejected"]


def test_rate_limiter_allows_the_limit_then_refills() -> None:
    """A partner gets `limit` requests at once, then one more per 60/limit seconds."""
    limiter = RateLimiter()
    assert [limiter.allow("p", 3, 0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("p", 3, 20.0) is True
    assert limiter.allow("q", 3, 20.0) is True


def test_admission_audit_events_name_the_channel_submission_and_agency() -> None:
    """submitted and accepted carry the channel, submission id and agency, on the referral's own chain."""
    referral = to_referral(envelope("s1"), POLICE, b"k")
    events = admit(None, referral).audit
    assert [e.details for e in events] == [{"channel": "http", "submission_id": "s1", "agency": "police"}] * 2
    assert {e.chain for e in events} == {f"intake:{referral.referral_id}"}
    assert {e.referral_id for e in events} == {referral.referral_id}


def test_a_partner_of_the_same_agency_but_another_system_cannot_submit() -> None:
    """The source system must match too: another police system's token is refused."""
    other = Partner(id="other-police", agency="police", system="other-police-system", token_sha256=hash_token("t"))
    with pytest.raises(SubmissionInvalid) as caught:
        to_referral(envelope("s1"), other, b"k")
    assert caught.value.reason == "partner_mismatch"


def test_a_partner_mismatch_names_the_source_field() -> None:
    """The refusal's field error points at `source` with a code and a sentence a partner can act on."""
    hospital = next(p for p in ACCESS.partners if p.id == "dev-hospital")
    with pytest.raises(SubmissionInvalid) as caught:
        to_referral(envelope("s1"), hospital, b"k")
    assert caught.value.errors == [
        FieldError(
            loc="source",
            code="partner_mismatch",
            message="source.agency and source.system do not match the submitting partner.",
        )
    ]


@pytest.mark.parametrize(
    "change",
    [{"subject__given_name": "Robin"}, {"subject__family_name": "Sample"}, {"subject__date_of_birth": "2001-04-04"}],
)
def test_the_subject_key_changes_with_each_identifying_fact(change: dict[str, str]) -> None:
    """Given name, family name and date of birth each go into the subject key."""
    same = to_referral(envelope("s1"), POLICE, b"k").subject_key
    assert same is not None and to_referral(envelope("s2"), POLICE, b"k").subject_key == same
    assert to_referral(envelope("s3", **change), POLICE, b"k").subject_key != same


def test_the_referral_id_comes_from_the_source_system_and_reference() -> None:
    """Another reference from the same system, or the same reference from another system, is another referral."""
    police = to_referral(envelope("s1"), POLICE, b"k").referral_id
    other_reference = SubmissionEnvelope(
        submission_id="s2",
        partner_id="dev-police",
        channel="http",
        received_at=NOW,
        payload=submission(reference="ADM-2", submitted_at="2026-11-26T09:59:00Z"),
    )
    assert to_referral(other_reference, POLICE, b"k").referral_id != police
    hospital = next(p for p in ACCESS.partners if p.id == "dev-hospital")
    from_hospital = SubmissionEnvelope(
        submission_id="s3",
        partner_id=hospital.id,
        channel="http",
        received_at=NOW,
        payload=submission(agency=hospital.agency.value, reference="ADM-1", submitted_at="2026-11-26T09:59:00Z"),
    )
    assert to_referral(from_hospital, hospital, b"k").referral_id != police


def test_a_submission_id_for_an_offset_is_a_uuid_stable_per_topic_partition_and_offset() -> None:
    """The same message position gives the same id; any other position another id."""
    ids = {submission_id_for_offset(t, p, o) for t, p, o in [("a", 0, 1), ("b", 0, 1), ("a", 1, 1), ("a", 0, 2)]}
    assert len(ids) == 4 and all(uuid.UUID(i) for i in ids)
    assert submission_id_for_offset("a", 0, 1) == submission_id_for_offset("a", 0, 1)


def rejected(**overrides: object) -> tuple:
    fields: dict = {
        "submission_id": "s9",
        "referral_id": "r9",
        "partner_id": "dev-police",
        "channel": Channel.kafka,
        "received_at": NOW,
        "rejected_at": NOW,
        "reason": "invalid_submission",
        "errors": [FieldError(loc="subject", code="missing", message="Field required.")],
        "raw": b"{}",
    }
    return rejection(**{**fields, **overrides})


def test_a_rejection_keeps_the_referral_and_partner_it_was_for() -> None:
    """The dead-letter record names the referral id and partner when they are known."""
    record, _ = rejected()
    assert record.referral_id == "r9" and record.partner_id == "dev-police"


def test_a_rejection_audit_names_channel_submission_reason_and_error_locations() -> None:
    """Both events carry the same non-personal details, on the submission's own chain, one after the other."""
    _, events = rejected()
    assert [e.details for e in events] == [
        {
            "channel": "kafka",
            "submission_id": "s9",
            "reason": "invalid_submission",
            "error_locations": ["subject"],
            "raw_length": 2,
            "raw_sha256": hashlib.sha256(b"{}").hexdigest(),
        }
    ] * 2
    assert [(e.chain, e.seq, e.referral_id, e.actor) for e in events] == [
        ("intake:rejection-s9", 1, "r9", "dev-police"),
        ("intake:rejection-s9", 2, "r9", "dev-police"),
    ]
    assert events[1].prev_hash == events[0].hash


def test_a_rejection_audit_lists_at_most_twenty_error_locations() -> None:
    """A submission with many errors is audited with its first twenty locations only."""
    errors = [FieldError(loc=f"field_{i}", code="missing", message="Field required.") for i in range(25)]
    _, events = rejected(errors=errors)
    assert events[0].details["error_locations"] == [f"field_{i}" for i in range(20)]


def test_a_rejection_from_an_unknown_partner_is_audited_as_unknown() -> None:
    """No partner identified: the audit's actor is `unknown`."""
    _, events = rejected(partner_id=None)
    assert {e.actor for e in events} == {"unknown"}


def test_a_rejection_keeps_a_bounded_excerpt_of_an_oversized_payload() -> None:
    """An oversized message is kept up to the excerpt limit, with the whole value's length and hash."""
    raw = b"a" * (EXCERPT_BYTES + 1)
    record, _ = rejected(raw=raw)
    assert len(record.raw_payload.excerpt) == EXCERPT_BYTES and record.raw_payload.truncated
    assert record.raw_payload.length == len(raw) and record.raw_payload.sha256 == hashlib.sha256(raw).hexdigest()
