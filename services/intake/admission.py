"""What intake does with a submission (pure): validate it, then admit it once per referral id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from schemas.audit import ActorKind, AuditAction, AuditEvent
from schemas.audit_details import AdmissionDetails, RejectionDetails
from schemas.envelope import SubmissionEnvelope
from schemas.identity import referral_id_for, subject_key_for
from schemas.raw_excerpt import raw_excerpt
from schemas.referral import Referral
from schemas.rejection import MAX_FIELD_ERRORS, FieldError, ReferralRejected, RejectionReason
from schemas.vocabulary import Channel
from services.common.access import Partner
from services.common.audit_chain import ChainHead, next_event
from services.intake.validation import SubmissionInvalid, validate_submission

MAX_REMEMBERED_SUBMISSIONS = 64


class Outcome(StrEnum):
    accepted = "accepted"
    duplicate = "duplicate"


class Admitted(BaseModel):
    """One submission of a referral id as intake admitted it: enough to emit the same messages again."""

    model_config = ConfigDict(frozen=True)

    submission_id: str
    outcome: Outcome
    head_before: ChainHead


class SeenRecord(BaseModel):
    """What intake remembers of a referral id: its recent submissions and its audit chain head.

    Written in one table value. If a worker dies after writing it but before its messages reach the
    broker, the redelivered submission is found here and the same messages are emitted again."""

    model_config = ConfigDict(frozen=True)

    first_submission_id: str
    accepted_at: datetime
    admitted: tuple[Admitted, ...]
    head: ChainHead
    partner_id: str | None = None
    """The partner that referred it, the only one that may add to it or withdraw it (None in records
    stored before it was kept: such a referral takes no updates)."""

    def referred_by(self, partner_id: str) -> bool:
        return self.partner_id == partner_id


@dataclass(frozen=True)
class Admission:
    outcome: Outcome
    record: SeenRecord
    audit: list[AuditEvent]
    accepted: Referral | None
    """The referral to publish as accepted: on acceptance, and again on each redelivery of the accepted
    submission (the worker may have died before its first send reached the broker). None for a duplicate."""
    redelivered: bool = False


def submission_id_for_offset(topic: str, partition: int, offset: int) -> str:
    """A submission id for a message a partner produced without one: stable across redelivery."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sosafe:submission:{topic}:{partition}:{offset}"))


def to_referral(envelope: SubmissionEnvelope, partner: Partner, subject_secret: bytes) -> Referral:
    """The canonical referral of a valid envelope (raises SubmissionInvalid)."""
    submission = validate_submission(envelope.payload, envelope.received_at)
    if submission.source.agency != partner.agency or submission.source.system != partner.system:
        raise SubmissionInvalid(
            RejectionReason.partner_mismatch,
            [
                FieldError(
                    loc="source",
                    code="partner_mismatch",
                    message="source.agency and source.system do not match the submitting partner.",
                )
            ],
        )
    subject = submission.subject
    return Referral(
        referral_id=referral_id_for(submission.source.system, submission.source.reference),
        submission_id=envelope.submission_id,
        partner_id=partner.id,
        channel=envelope.channel,
        received_at=envelope.received_at,
        accepted_at=envelope.received_at,
        subject_key=subject_key_for(subject_secret, subject.given_name, subject.family_name, subject.date_of_birth),
        submission=submission,
    )


def _events(head: ChainHead | None, referral: Referral, outcome: Outcome) -> tuple[list[AuditEvent], ChainHead]:
    details = AdmissionDetails(
        channel=referral.channel,
        submission_id=referral.submission_id,
        agency=referral.submission.source.agency,
    )
    events = []
    for action in (AuditAction.submitted, AuditAction(outcome.value)):
        event, head = next_event(
            head,
            emitter="intake",
            chain_key=referral.referral_id,
            referral_id=referral.referral_id,
            action=action,
            actor_kind=ActorKind.partner,
            actor=referral.partner_id,
            occurred_at=referral.received_at,
            details=details,
        )
        events.append(event)
    assert head is not None
    return events, head


def admit(record: SeenRecord | None, referral: Referral) -> Admission:
    """First sight of a referral id is accepted; a new submission of a known id is a duplicate; the
    same submission seen again (at-least-once redelivery) gives the same outcome and audit events again,
    and changes nothing."""
    earlier = next((a for a in record.admitted if a.submission_id == referral.submission_id), None) if record else None
    if record is not None and earlier is not None:
        events, _ = _events(earlier.head_before, referral, earlier.outcome)
        accepted = referral if earlier.outcome == Outcome.accepted else None
        return Admission(earlier.outcome, record, events, accepted, redelivered=True)
    outcome = Outcome.accepted if record is None else Outcome.duplicate
    head_before = record.head if record else ChainHead()
    events, head = _events(head_before, referral, outcome)
    admitted = (
        *(record.admitted if record else ()),
        Admitted(submission_id=referral.submission_id, outcome=outcome, head_before=head_before),
    )
    new_record = SeenRecord(
        first_submission_id=record.first_submission_id if record else referral.submission_id,
        accepted_at=record.accepted_at if record else referral.accepted_at,
        admitted=admitted[-MAX_REMEMBERED_SUBMISSIONS:],
        head=head,
        partner_id=record.partner_id if record else referral.partner_id,
    )
    return Admission(outcome, new_record, events, referral if outcome == Outcome.accepted else None)


def rejection(
    *,
    submission_id: str,
    referral_id: str | None,
    partner_id: str | None,
    channel: Channel,
    received_at: datetime,
    rejected_at: datetime,
    reason: RejectionReason,
    errors: list[FieldError],
    raw: bytes,
) -> tuple[ReferralRejected, list[AuditEvent]]:
    """The dead-letter record of a rejected submission (a bounded excerpt of `raw`, with its length and
    SHA-256) and its audit events (submitted, rejected)."""
    kept = raw_excerpt(raw)
    rejected = ReferralRejected(
        submission_id=submission_id,
        referral_id=referral_id,
        partner_id=partner_id,
        channel=channel,
        received_at=received_at,
        rejected_at=rejected_at,
        reason=reason,
        errors=errors[:MAX_FIELD_ERRORS],
        raw_payload=kept,
    )
    details = RejectionDetails(
        channel=channel,
        submission_id=submission_id,
        reason=reason,
        error_locations=[e.loc for e in errors[:20]],
        raw_length=kept.length,
        raw_sha256=kept.sha256,
    )
    head: ChainHead | None = None
    events = []
    for action in (AuditAction.submitted, AuditAction.rejected):
        event, head = next_event(
            head,
            emitter="intake",
            chain_key=f"rejection-{submission_id}",
            referral_id=referral_id,
            action=action,
            actor_kind=ActorKind.partner,
            actor=partner_id or "unknown",
            occurred_at=received_at,
            details=details,
        )
        events.append(event)
    return rejected, events
