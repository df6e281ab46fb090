"""Turns raw bytes into a valid submission or a list of field errors that never echo the values (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from schemas.rejection import MAX_FIELD_ERRORS, FieldError
from schemas.submission import ReferralSubmission, RuleCode


class SubmissionInvalid(Exception):
    """A submission broke the contract; `reason` is a short code, `errors` name fields and rules."""

    def __init__(self, reason: str, errors: list[FieldError]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors


def field_errors(exc: ValidationError) -> list[FieldError]:
    """pydantic errors as location + rule + message, without the submitted input or context values.

    Unexpected fields are counted per object, never named: a field's name is itself something a partner
    sent (it may carry personal data), so "2 unexpected fields in subject" stands for all of them."""
    out: list[FieldError] = []
    unexpected: dict[str, int] = {}
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        if err["type"] == "extra_forbidden":
            parent = ".".join(str(part) for part in err["loc"][:-1]) or "(body)"
            if parent not in unexpected:
                out.append(FieldError(loc=parent[:300], code="extra_forbidden", message=""))
            unexpected[parent] = unexpected.get(parent, 0) + 1
            continue
        loc = ".".join(str(part) for part in err["loc"]) or "(body)"
        message = str(err["msg"])
        if err["type"] in {"literal_error", "enum", "string_pattern_mismatch", "value_error"}:
            message = message.split(", got", 1)[0]
        if err["type"] == "value_error":  # "value is not a valid email address: ... characters: '<'."
            message = message.split(": ", 1)[0]
        out.append(FieldError(loc=loc[:300], code=str(err["type"])[:64], message=message[:300]))
    return [
        error.model_copy(update={"message": unexpected_fields(unexpected[error.loc], error.loc)})
        if error.code == "extra_forbidden"
        else error
        for error in out[:MAX_FIELD_ERRORS]
    ]


def unexpected_fields(count: int, parent: str) -> str:
    """`2 unexpected fields in subject`: how many and where, not which."""
    where = "the body" if parent == "(body)" else parent
    return f"{count} unexpected field{'s' if count != 1 else ''} in {where}"[:300]


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise SubmissionInvalid(
            "invalid_json", [FieldError(loc="(body)", code="json_invalid", message="The body is not valid JSON.")]
        ) from exc


def validate_submission(payload: Any, now: datetime) -> ReferralSubmission:
    """A `ReferralSubmission` from parsed JSON, or SubmissionInvalid naming every broken rule."""
    if not isinstance(payload, dict):
        raise SubmissionInvalid(
            "invalid_submission",
            [FieldError(loc="(body)", code="model_type", message="The body must be a JSON object.")],
        )
    try:
        submission = ReferralSubmission.model_validate(payload)
    except ValidationError as exc:
        raise SubmissionInvalid("invalid_submission", field_errors(exc)) from exc
    try:
        submission.check_not_from_future(now)
    except ValueError as exc:
        raise SubmissionInvalid(
            "invalid_submission", [FieldError(loc="submitted_at", code=RuleCode.future_datetime, message=str(exc))]
        ) from exc
    return submission
