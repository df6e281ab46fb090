"""Opens a submission message (pure): an envelope, or a bare submission a partner produced.

Who sent it comes from the topic it was written to, never from what it says, except on intake's own
`referrals.submitted`: on a partner's topic `referrals.submitted.<partner id>` (only that partner's principal
may write it) the partner is the topic's, and a message claiming another partner, agency or system is
rejected (`partner_mismatch`); a topic of no registered partner is rejected whole (`unknown_partner_topic`).
On `referrals.submitted`, which only intake's principal writes (its HTTP handler, after checking the
partner's token), the envelope names the partner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from schemas.envelope import SubmissionEnvelope
from schemas.rejection import FieldError, RejectionReason
from schemas.vocabulary import Channel
from services.common import topics
from services.common.access import AccessFile, Partner, partner_by_id
from services.common.validation_errors import field_errors
from services.intake.admission import submission_id_for_offset
from services.intake.validation import SubmissionInvalid, parse_json


@dataclass(frozen=True)
class Opened:
    envelope: SubmissionEnvelope
    partner: Partner


def _partner_by_source(access: AccessFile, payload: dict[str, Any]) -> Partner | None:
    source = payload.get("source")
    if not isinstance(source, dict):
        return None
    for partner in access.partners:
        if partner.agency.value == source.get("agency") and partner.system == source.get("system"):
            return partner
    return None


def _mismatch(loc: str, message: str) -> SubmissionInvalid:
    return SubmissionInvalid(
        RejectionReason.partner_mismatch, [FieldError(loc=loc, code="partner_mismatch", message=message)]
    )


def partner_of_topic(access: AccessFile, topic: str) -> Partner | None:
    """The partner whose own topic this is; None for intake's `referrals.submitted` (the message names its
    partner there). Raises SubmissionInvalid `unknown_partner_topic` for any other topic."""
    if topic == topics.SUBMITTED:
        return None
    partner_id = topics.partner_of_topic(topic)
    partner = partner_by_id(access, partner_id) if partner_id is not None else None
    if partner is None:
        raise SubmissionInvalid(
            RejectionReason.unknown_partner_topic,
            [
                FieldError(
                    loc="(topic)",
                    code="unknown_partner_topic",
                    message="The topic is not the submission topic of any registered partner.",
                )
            ],
        )
    return partner


def _check_claims(envelope: SubmissionEnvelope, producer: Partner) -> None:
    """A message on a partner's own topic may only speak for that partner (partner_mismatch otherwise)."""
    if envelope.partner_id is not None and envelope.partner_id != producer.id:
        raise _mismatch("partner_id", "partner_id is not the partner whose topic this is.")
    source = envelope.payload.get("source")
    if not isinstance(source, dict):
        return  # no claim to check: the submission's validation names the missing source
    if "agency" in source and source["agency"] != producer.agency.value:
        raise _mismatch("source.agency", "source.agency is not the agency of the partner whose topic this is.")
    if "system" in source and source["system"] != producer.system:
        raise _mismatch("source.system", "source.system is not the system of the partner whose topic this is.")


def open_message(
    raw: bytes | None,
    *,
    access: AccessFile,
    producer: Partner | None = None,
    topic: str,
    partition: int,
    offset: int,
    timestamp: datetime,
) -> Opened:
    """The envelope and its partner, or SubmissionInvalid (reason `undecodable`, `invalid_envelope`,
    `unknown_partner`, `partner_mismatch`) with field errors. A bare submission (no envelope) is wrapped as
    channel kafka. `producer` is the partner whose own topic the message is on (`partner_of_topic`), who
    is then the message's partner whatever it claims; None on intake's `referrals.submitted`."""
    if not raw:
        raise SubmissionInvalid(
            RejectionReason.undecodable,
            [FieldError(loc="(message)", code="empty", message="The message has no value.")],
        )
    try:
        payload = parse_json(raw)
    except SubmissionInvalid as exc:
        raise SubmissionInvalid(RejectionReason.undecodable, exc.errors) from exc
    if not isinstance(payload, dict):
        raise SubmissionInvalid(
            RejectionReason.undecodable,
            [FieldError(loc="(message)", code="model_type", message="The message must be a JSON object.")],
        )
    if "envelope_version" in payload or "payload" in payload:
        try:
            envelope = SubmissionEnvelope.model_validate(payload)
        except ValidationError as exc:
            raise SubmissionInvalid(RejectionReason.invalid_envelope, field_errors(exc)) from exc
    else:
        envelope = SubmissionEnvelope(
            submission_id=submission_id_for_offset(topic, partition, offset),
            partner_id=None,
            channel=Channel.kafka,
            received_at=timestamp,
            payload=payload,
        )
    if producer is not None:
        _check_claims(envelope, producer)
        return Opened(envelope, producer)
    if envelope.partner_id is not None:
        partner = partner_by_id(access, envelope.partner_id)
    else:
        partner = _partner_by_source(access, envelope.payload)
    if partner is None:
        raise SubmissionInvalid(
            RejectionReason.unknown_partner,
            [
                FieldError(
                    loc="source",
                    code="unknown_partner",
                    message="No registered partner has this source.agency and source.system.",
                )
            ],
        )
    return Opened(envelope, partner)
