"""The KPI report's split by ruleset version (pure): how many referrals each ruleset version decided, and for
which services, so a board can see what a new ruleset changed once it went live.

A referral counts under a version when a decision of that version (initial, follow-up, reassignment or
decline fallback) made by ``as_of`` assigned it; under each service that version assigned it to, once. A
referral decided under two versions (a follow-up after a new ruleset went live) counts under both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from schemas.decision import TriageDecision


class RulesetServiceCount(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str
    referrals: int


class RulesetVersionRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ruleset_version: str
    referrals: int
    """Referrals with at least one decision of this version."""
    decisions: int
    services: list[RulesetServiceCount]
    """Per service, the referrals this version assigned to it (in the order services first appear, sorted)."""


def by_ruleset_version(decided: Iterable[Sequence[TriageDecision]], as_of: datetime) -> list[RulesetVersionRow]:
    """One row per ruleset version seen in the cohort's decisions made by `as_of`, oldest version name first."""
    referrals: Counter[str] = Counter()
    decisions: Counter[str] = Counter()
    services: dict[str, Counter[str]] = {}
    for referral_decisions in decided:
        seen: set[str] = set()
        assigned: dict[str, set[str]] = {}
        for decision in referral_decisions:
            if decision.decided_at > as_of:
                continue
            version = decision.ruleset_version
            decisions[version] += 1
            seen.add(version)
            assigned.setdefault(version, set()).update(a.service.value for a in decision.assignments)
        referrals.update(seen)
        for version, names in assigned.items():
            services.setdefault(version, Counter()).update(names)
    return [
        RulesetVersionRow(
            ruleset_version=version,
            referrals=referrals[version],
            decisions=decisions[version],
            services=[RulesetServiceCount(service=s, referrals=n) for s, n in sorted(services[version].items())],
        )
        for version in sorted(referrals)
    ]
