"""Turns raw bytes into a valid submission or a list of field errors that never echo the values (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from schemas.rejection import FieldError, RejectionReason
from schemas.submission import ReferralSubmission, RuleCode
from services.common.validation_errors import field_errors


class SubmissionInvalid(Exception):
    """A submission broke the contract; `reason` is a short code, `errors` name fields and rules."""

    def __init__(self, reason: RejectionReason, errors: list[FieldError]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise SubmissionInvalid(
            RejectionReason.invalid_json,
            [FieldError(loc="(body)", code="json_invalid", message="The body is not valid JSON.")],
        ) from exc


def validate_submission(payload: Any, now: datetime) -> ReferralSubmission:
    """A `ReferralSubmission` from parsed JSON, or SubmissionInvalid naming every broken rule."""
    if not isinstance(payload, dict):
        raise SubmissionInvalid(
            RejectionReason.invalid_submission,
            [FieldError(loc="(body)", code="model_type", message="The body must be a JSON object.")],
        )
    try:
        submission = ReferralSubmission.model_validate(payload)
    except ValidationError as exc:
        raise SubmissionInvalid(RejectionReason.invalid_submission, field_errors(exc)) from exc
    try:
        submission.check_not_from_future(now)
    except ValueError as exc:
        raise SubmissionInvalid(
            RejectionReason.invalid_submission,
            [FieldError(loc="submitted_at", code=RuleCode.future_datetime, message=str(exc))],
        ) from exc
    return submission
