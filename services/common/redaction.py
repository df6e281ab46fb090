"""The structlog processor that keeps personal data out of every log line."""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any, Final

REDACTED: Final = "[redacted]"

PERSONAL_KEYS: Final = frozenset(
    {
        "given_name",
        "family_name",
        "name",
        "full_name",
        "date_of_birth",
        "dob",
        "birth_date",
        "postcode",
        "email",
        "phone",
        "narrative",
        "payload",
        "raw_payload",
        "raw",
        "body",
        "subject",
        "referrer",
        "address",
        "token",
        "authorization",
        "password",
        "secret",
    }
)
"""Keys whose values never reach a log, at any depth."""

_PATTERNS: Final = (
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),  # e-mail address
    re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\b", re.IGNORECASE),  # UK postcode
    re.compile(r"(?<![\w-])(?:\+44\s?|0)\d{2,4}[\s-]?\d{3,4}[\s-]?\d{3,4}\b"),  # UK phone number
)


def scrub_text(text: str) -> str:
    """Replace e-mail addresses, postcodes and phone numbers inside free text."""
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 6:
        return REDACTED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {k: REDACTED if str(k).lower() in PERSONAL_KEYS else _scrub(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v, depth + 1) for v in value]
    return value


def redact_personal_data(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: drop personal keys and scrub personal patterns from every value."""
    for key in list(event_dict):
        if key.lower() in PERSONAL_KEYS:
            event_dict[key] = REDACTED
        elif key != "timestamp":
            event_dict[key] = _scrub(event_dict[key])
    return event_dict
