"""Opens a message from `referrals.submitted`: an envelope, or a bare submission a partner produced (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from schemas.envelope import SubmissionEnvelope
from schemas.rejection import FieldError
from schemas.vocabulary import Channel
from services.common.access import AccessFile, Partner
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


def open_message(
    raw: bytes | None, *, access: AccessFile, topic: str, partition: int, offset: int, timestamp: datetime
) -> Opened:
    """The envelope and its partner, or SubmissionInvalid (reason `undecodable`, `invalid_envelope`,
    `unknown_partner`) with field errors. A bare submission (no envelope) is wrapped as channel kafka."""
    if not raw:
        raise SubmissionInvalid(
            "undecodable", [FieldError(loc="(message)", code="empty", message="The message has no value.")]
        )
    try:
        payload = parse_json(raw)
    except SubmissionInvalid as exc:
        raise SubmissionInvalid("undecodable", exc.errors) from exc
    if not isinstance(payload, dict):
        raise SubmissionInvalid(
            "undecodable",
            [FieldError(loc="(message)", code="model_type", message="The message must be a JSON object.")],
        )
    if "envelope_version" in payload or "payload" in payload:
        try:
            envelope = SubmissionEnvelope.model_validate(payload)
        except ValidationError as exc:
            raise SubmissionInvalid("invalid_envelope", field_errors(exc)) from exc
    else:
        envelope = SubmissionEnvelope(
            submission_id=submission_id_for_offset(topic, partition, offset),
            partner_id=None,
            channel=Channel.kafka,
            received_at=timestamp,
            payload=payload,
        )
    if envelope.partner_id is not None:
        partner = next((p for p in access.partners if p.id == envelope.partner_id), None)
    else:
        partner = _partner_by_source(access, envelope.payload)
    if partner is None:
        raise SubmissionInvalid(
            "unknown_partner",
            [
                FieldError(
                    loc="source",
                    code="unknown_partner",
                    message="No registered partner has this source.agency and source.system.",
                )
            ],
        )
    return Opened(envelope, partner)
