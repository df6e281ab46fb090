"""Synthetic but realistic referrals (fictitious people) that exercise every rule of the default routing policy.

Used by `sosafe demo`, the tests and the benchmark, so all three see the same kinds of referral.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

GIVEN = (
    "Alex",
    "Jordan",
    "Casey",
    "Riley",
    "Morgan",
    "Taylor",
    "Jamie",
    "Robin",
    "Sam",
    "Charlie",
    "Avery",
    "Quinn",
    "Rowan",
    "Elliot",
    "Harper",
    "Skyler",
    "Reese",
    "Dakota",
    "Emerson",
    "Finley",
)
FAMILY = (
    "Ashdown",
    "Brookfield",
    "Carrow",
    "Denholm",
    "Eastcote",
    "Fairlie",
    "Gransden",
    "Hallam",
    "Ingleby",
    "Jessop",
    "Kettering",
    "Langley",
    "Merriman",
    "Norcott",
    "Oakes",
    "Pembury",
    "Quarles",
    "Radwell",
)
ORGANISATIONS = {
    "police": "Hertfordshire Constabulary",
    "hospital": "Lister Hospital A&E",
    "gp": "Bedwell Medical Centre",
    "prison": "HMP The Mount",
    "probation": "Probation Service (Hertfordshire)",
    "school": "Barnwell School",
    "college": "North Herts College",
    "council": "Stevenage Borough Council",
    "housing": "Stevenage Homes",
    "voluntary": "Stevenage Community Trust",
    "self": "Third-party reporting centre",
}
POSTCODES = ("SG1 1AA", "SG1 2BB", "SG2 7CD", "SG2 9EF", "SG1 4GH")

# (name, agency, role, concerns, age, extra fields) — each exercises one or more rules of the default routing policy.
SCENARIOS: tuple[tuple[str, str, str, tuple[str, ...], int | None, dict[str, Any]], ...] = (
    (
        "da_high_risk",
        "police",
        "victim",
        ("domestic_abuse",),
        31,
        {"risk": {"dash_score": 16, "level": "high", "immediate_danger": False}, "household": {"children_under_18": 2}},
    ),
    ("da_standard", "gp", "victim", ("domestic_abuse",), 44, {"risk": {"dash_score": 6, "level": "medium"}}),
    ("da_child_victim", "school", "victim", ("domestic_abuse",), 14, {}),
    ("da_perpetrator", "probation", "perpetrator", ("domestic_abuse",), 36, {}),
    (
        "modern_slavery_child",
        "council",
        "victim",
        ("modern_slavery", "exploitation"),
        16,
        {"consent": {"obtained": False, "basis": None}},
    ),
    (
        "modern_slavery_adult_no_consent",
        "police",
        "victim",
        ("modern_slavery",),
        29,
        {"consent": {"obtained": False, "basis": None}},
    ),
    ("hate_crime", "voluntary", "victim", ("hate_crime",), 52, {}),
    ("youth_knife", "hospital", "at_risk", ("knife_crime", "violent_crime"), 17, {}),
    ("youth_gang", "college", "at_risk", ("gang_involvement",), 19, {}),
    (
        "prison_leaver",
        "prison",
        "perpetrator",
        ("offending", "substance_misuse", "homelessness", "mental_health"),
        33,
        {"custody": {"release_date": "+10"}},
    ),
    ("substance", "gp", "at_risk", ("substance_misuse",), 41, {}),
    ("multiple_needs", "housing", "at_risk", ("homelessness", "mental_health", "antisocial_behaviour"), 27, {}),
    (
        "immediate_danger",
        "police",
        "victim",
        ("domestic_abuse",),
        24,
        {"risk": {"dash_score": 19, "level": "high", "immediate_danger": True}},
    ),
    ("out_of_area", "hospital", "at_risk", ("hate_crime",), 38, {"subject": {"district": "north_herts"}}),
    (
        "no_lawful_basis",
        "council",
        "at_risk",
        ("substance_misuse",),
        45,
        {"consent": {"obtained": False, "basis": "consent"}},
    ),
    ("nothing_matched", "self", "family", ("mental_health",), 60, {}),
    ("age_unknown", "voluntary", "victim", ("domestic_abuse",), None, {}),
)


def _merge(body: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key].update(value)
        else:
            body[key] = value


def synthetic_submission(n: int, rng: random.Random, now: datetime, run: str = "demo") -> dict[str, Any]:
    """The n-th synthetic submission: scenario n mod the scenario count; every 9th repeats an earlier
    person (the repeat-referral rule)."""
    name, agency, role, concerns, age, extra = SCENARIOS[n % len(SCENARIOS)]
    person = rng.randrange(len(GIVEN) * len(FAMILY)) if n % 9 else max(0, n - len(SCENARIOS))
    given, family = GIVEN[person % len(GIVEN)], FAMILY[person // len(GIVEN) % len(FAMILY)]
    birth = None if age is None else (now.date() - timedelta(days=365 * age + 40 + person % 200)).isoformat()
    body: dict[str, Any] = {
        "schema_version": "1",
        "source": {
            "agency": agency,
            "organisation": ORGANISATIONS[agency],
            "system": f"dev-{agency}",
            "reference": f"{run}-{n:07d}",
            "referrer": {"name": "Duty Referrer", "role": "practitioner", "email": "referrer@example.org"},
        },
        "subject": {
            "given_name": given,
            "family_name": family,
            "date_of_birth": birth,
            "postcode": rng.choice(POSTCODES),
            "district": "stevenage",
            "safe_to_contact": True,
        },
        "role": role,
        "concerns": list(concerns),
        "risk": {"dash_score": None, "level": "standard", "immediate_danger": False},
        "household": {"children_under_18": 0},
        "custody": {"release_date": None},
        "consent": {"obtained": True, "basis": "consent"},
        "narrative": f"Synthetic {name.replace('_', ' ')} referral for the demo; not a real person.",
        "submitted_at": now.isoformat().replace("+00:00", "Z"),
    }
    _merge(body, extra)
    release = body["custody"].get("release_date")
    if isinstance(release, str) and release.startswith("+"):
        body["custody"]["release_date"] = (now.date() + timedelta(days=int(release[1:]))).isoformat()
    return body


def synthetic_submissions(count: int, seed: int, now: datetime, run: str = "demo") -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for n in range(count):
        yield synthetic_submission(n, rng, now, run)


def scenario_names() -> list[str]:
    return [scenario[0] for scenario in SCENARIOS]
