"""What a referring partner may read on triage's API: its own referrals' status and the outcomes it was told.

Partners authenticate with the bearer token they submit with (the access file's `partners:`). A partner
sees only what `ReferralOutcome` carries (services, priorities, deadlines, states, reason codes, times) and
the times of its own referral: never officers, free text, the person or another partner's referrals.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from schemas.outcome import OutcomeKind, ReferralOutcome
from services.common.access import Partner, Registry, bearer_token
from services.triage.cases.records import ReferralRecord

CHANGES_LIMIT = 100
"""Outcomes per `GET /v1/referrals?updated_since=` page; the answer's cursor asks for the next page."""
CURSOR_PREFIX = "v1:"


def partner_for(tokens: Registry, authorization: str | None) -> Partner | None:
    token = bearer_token(authorization)
    return tokens.partner(token) if token else None


def encode_cursor(position: int) -> str:
    """Opaque to the partner: the last outcome number it has seen."""
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The position a cursor stands for (0 for none: from the start), or None when it is not one of ours."""
    if not cursor:
        return 0
    if len(cursor) > 64:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    number = text.removeprefix(CURSOR_PREFIX)
    if not text.startswith(CURSOR_PREFIX) or not number.isdigit() or len(number) > 18:
        return None
    return int(number)


def outcome_json(outcome: ReferralOutcome) -> dict[str, Any]:
    return outcome.model_dump(mode="json", exclude={"partner_id"})


def assignment_state(kind: OutcomeKind) -> str:
    """An assignment's state as the partner is told it: `new` once triaged, then what last happened."""
    return "new" if kind is OutcomeKind.triaged else kind.value


def status_json(record: ReferralRecord, told: list[ReferralOutcome]) -> dict[str, Any]:
    """The referral's status: when it was received, each assignment as it stands, and every outcome in order."""
    latest: dict[str, ReferralOutcome] = {}
    for outcome in told:
        latest[outcome.service.value] = outcome
    referral = record.referral
    return {
        "referral_id": referral.referral_id,
        "received_at": referral.received_at.isoformat(),
        "accepted_at": referral.accepted_at.isoformat(),
        "state": "triaged" if told else "received",
        "assignments": [
            {
                "service": o.service.value,
                "priority": o.priority.value,
                "due_at": o.due_at.isoformat(),
                "state": assignment_state(o.kind),
                "reason_code": o.reason_code,
                "to": o.to.value if o.to else None,
                "updated_at": o.occurred_at.isoformat(),
            }
            for o in latest.values()
        ],
        "outcomes": [outcome_json(o) for o in told],
    }
