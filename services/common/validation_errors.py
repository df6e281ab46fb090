"""pydantic validation errors as the field errors every HTTP error body and rejection carries: location,
rule and message, never the value sent (pure)."""

from __future__ import annotations

from pydantic import ValidationError

from schemas.rejection import MAX_FIELD_ERRORS, FieldError


def field_errors(exc: ValidationError) -> list[FieldError]:
    """pydantic errors as location + rule + message, without the submitted input or context values."""
    out = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False)[:MAX_FIELD_ERRORS]:
        loc = ".".join(str(part) for part in err["loc"]) or "(body)"
        message = str(err["msg"])
        if err["type"] in {"literal_error", "enum", "string_pattern_mismatch", "value_error"}:
            message = message.split(", got", 1)[0]
        if err["type"] == "value_error":  # "value is not a valid email address: ... characters: '<'."
            message = message.split(": ", 1)[0]
        out.append(FieldError(loc=loc[:300], code=str(err["type"])[:64], message=message[:300]))
    return out
