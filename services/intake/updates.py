"""What intake makes of a referrer's update or withdrawal request (pure): the body validated, the owner
checked, and the `ReferralUpdate` to publish on `referrals.updates`."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import ValidationError

from schemas.rejection import FieldError
from schemas.update import NewInformation, ReferralUpdate, Withdrawal
from services.common.validation_errors import field_errors
from services.intake.admission import SeenRecord
from services.intake.validation import SubmissionInvalid, parse_json

Body = NewInformation | Withdrawal


class UpdateInvalid(Exception):
    """An update or withdrawal body broke its contract: `reason` is the HTTP error code (`invalid_json` or
    `invalid_update`), `errors` name fields and rules. Not a `SubmissionInvalid`: an update is answered
    422 and never becomes a rejection on `referrals.rejected`, whose reasons are a closed vocabulary."""

    def __init__(self, reason: str, errors: list[FieldError]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors


class UpdateKind(StrEnum):
    """The two requests a referrer may make about a referral it sent (the last part of their path)."""

    updates = "updates"
    withdraw = "withdraw"


BODY_MODELS: dict[UpdateKind, type[NewInformation] | type[Withdrawal]] = {
    UpdateKind.updates: NewInformation,
    UpdateKind.withdraw: Withdrawal,
}


def read_body(raw: bytes, model: type[NewInformation] | type[Withdrawal]) -> Body:
    """The request body as `model`, or UpdateInvalid naming each broken rule (never a value sent)."""
    try:
        payload = parse_json(raw)
    except SubmissionInvalid as exc:
        raise UpdateInvalid(exc.reason.value, exc.errors) from exc
    if not isinstance(payload, dict):
        raise UpdateInvalid(
            "invalid_update", [FieldError(loc="(body)", code="model_type", message="The body must be a JSON object.")]
        )
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise UpdateInvalid("invalid_update", field_errors(exc)) from exc


def owned_by(record: SeenRecord | None, partner_id: str) -> bool:
    """Whether intake admitted the referral from this partner: only it may add to it or withdraw it.

    An unknown referral and another partner's referral are answered alike (404), so a partner learns
    nothing of referral ids that are not its own."""
    return record is not None and record.referred_by(partner_id)


def referral_update(
    referral_id: str, partner_id: str, received_at: datetime, body: NewInformation | Withdrawal
) -> ReferralUpdate:
    """The message for triage; each request gets its own update id (a retried request is a second update,
    which changes nothing the first did not: updates only add and raise, a second withdrawal finds it done)."""
    return ReferralUpdate(
        update_id=str(uuid.uuid4()),
        referral_id=referral_id,
        partner_id=partner_id,
        received_at=received_at,
        information=body if isinstance(body, NewInformation) else None,
        withdrawal=body if isinstance(body, Withdrawal) else None,
    )
