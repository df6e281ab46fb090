"""Submission v1 payloads for tests: a valid one by default, any field overridable."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

DISTINCTIVE = {
    "given_name": "Zephyrine",
    "family_name": "Quillfeather-Marchbanks",
    "date_of_birth": "1987-02-19",
    "postcode": "SG1 9ZZ",
    "narrative": "Narrative-marker-7f3a9c told in confidence",
    "phone": "07700 900123",
    "email": "zephyrine.qm@example.net",
}
"""Personal values distinctive enough that finding one anywhere in logs or notifications is a leak."""


def submission(agency: str = "police", reference: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schema_version": "1",
        "source": {
            "agency": agency,
            "organisation": "Hertfordshire Constabulary",
            "system": f"dev-{agency}",
            "reference": reference or f"T-{uuid.uuid4().hex[:12]}",
            "referrer": {"name": "PC A. Example", "role": "officer", "email": "a@example.org", "phone": "01438 000000"},
        },
        "subject": {
            "given_name": "Sam",
            "family_name": "Example",
            "date_of_birth": "2001-04-03",
            "gender": "female",
            "postcode": "SG1 1AA",
            "district": "stevenage",
            "safe_to_contact": True,
        },
        "role": "victim",
        "concerns": ["domestic_abuse"],
        "risk": {"dash_score": 15, "level": "high", "immediate_danger": False},
        "household": {"children_under_18": 0},
        "custody": {"release_date": None},
        "consent": {"obtained": True, "basis": "consent"},
        "narrative": "Example narrative.",
        "submitted_at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }
    for path, value in overrides.items():
        target = body
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return copy.deepcopy(body)


def distinctive_submission(agency: str = "police", reference: str | None = None) -> dict[str, Any]:
    """A valid submission carrying the DISTINCTIVE personal values."""
    return submission(
        agency,
        reference,
        subject__given_name=DISTINCTIVE["given_name"],
        subject__family_name=DISTINCTIVE["family_name"],
        subject__date_of_birth=DISTINCTIVE["date_of_birth"],
        subject__postcode=DISTINCTIVE["postcode"],
        subject__phone=DISTINCTIVE["phone"],
        subject__email=DISTINCTIVE["email"],
        narrative=DISTINCTIVE["narrative"],
    )
