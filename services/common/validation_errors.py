"""pydantic validation errors as the field errors every HTTP error body and rejection carries: location,
rule and message, never the value sent, and never the name of a field nobody expected (pure)."""

from __future__ import annotations

from pydantic import ValidationError

from schemas.rejection import MAX_FIELD_ERRORS, FieldError


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
