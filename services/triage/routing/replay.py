"""What-if replay: a period's referrals routed under two rulesets, and what moved (pure).

Each referral is replayed from its routing facts (`Facts`: no name, contact detail, postcode or narrative),
stored by the read model when the referral was accepted, and from the subject's other referrals (by the
keyed subject hash) for the repeat override. A referral "moves" when its services, a service's priority or
its flags differ between the live and the candidate ruleset. Deadlines are left out: they follow priority.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from schemas.decision import Flag
from schemas.vocabulary import Agency, Concern, ConsentBasis, District, Priority, RiskLevel, Role, Service
from services.triage.routing.conditions import Facts
from services.triage.routing.rule_format import Rule
from services.triage.routing.rules import RuleFinding, RuleStatus, route
from services.triage.routing.ruleset import Ruleset

EXAMPLES = 5
"""Example referral ids kept per rule and per service."""


def facts_json(facts: Facts) -> str:
    """`facts` as compact JSON for the read model (sets as sorted lists)."""
    data = asdict(facts)
    data["concerns"] = sorted(concern.value for concern in facts.concerns)
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def facts_from_json(text: str) -> Facts:
    data: dict[str, Any] = json.loads(text)

    def maybe(kind: Any, value: Any) -> Any:
        return None if value is None else kind(value)

    return Facts(
        age=data["age"],
        concerns=frozenset(Concern(concern) for concern in data["concerns"]),
        role=Role(data["role"]),
        agency=Agency(data["agency"]),
        dash_score=data["dash_score"],
        risk_level=maybe(RiskLevel, data["risk_level"]),
        children_under_18=data["children_under_18"],
        days_to_release=data["days_to_release"],
        consent_obtained=data["consent_obtained"],
        consent_basis=maybe(ConsentBasis, data["consent_basis"]),
        district=maybe(District, data["district"]),
        immediate_danger=data["immediate_danger"],
        safe_to_contact=data.get("safe_to_contact"),
    )


@dataclass(frozen=True)
class StoredReferral:
    """One accepted referral as the replay sees it."""

    referral_id: str
    accepted_at: datetime
    subject_key: str | None
    facts: Facts


@dataclass(frozen=True)
class Outcome:
    """Where a referral goes under one ruleset: each service's priority, and the flags."""

    services: dict[Service, Priority]
    flags: frozenset[Flag]
    every_rule: tuple[Rule, ...]
    """The ruleset's rules (those not in `rules` were not matched)."""
    rules: tuple[RuleFinding, ...]
    """The rules that fired or were held for a missing age (the replay routes with `explain=False`)."""

    @property
    def findings(self) -> dict[str, tuple[str, Service | None, Priority | None, tuple[Flag, ...]]]:
        """Rule id -> (status, service, priority, flags): read only for the referrals that moved."""
        found = dict.fromkeys((rule.id for rule in self.every_rule), (RuleStatus.not_matched.value, None, None, ()))
        return found | {finding.rule_id: _summary(finding) for finding in self.rules}


@dataclass
class Tally:
    referrals: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, referral_id: str) -> None:
        self.referrals += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(referral_id)


@dataclass
class Diff:
    """What the candidate would have changed over the period."""

    live_version: str
    candidate_version: str
    replayed: int = 0
    moved: Tally = field(default_factory=Tally)
    service_changed: Tally = field(default_factory=Tally)
    priority_changed: Tally = field(default_factory=Tally)
    flags_changed: Tally = field(default_factory=Tally)
    by_rule: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_service: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    moved_ids: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.moved.referrals > 0


class History:
    """Every stored referral's acceptance time by subject key, to tell a repeat referral."""

    def __init__(self, referrals: Iterable[StoredReferral]) -> None:
        times: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        for referral in referrals:
            if referral.subject_key is not None:
                times[referral.subject_key].append((referral.accepted_at, referral.referral_id))
        self._times = {key: sorted(found) for key, found in times.items()}

    def is_repeat(self, referral: StoredReferral, within_days: int) -> bool:
        """Another referral of the subject accepted in the `within_days` up to this one (as `rules.decide`)."""
        if referral.subject_key is None:
            return False
        found = self._times.get(referral.subject_key, [])
        since = referral.accepted_at - timedelta(days=within_days)
        low = bisect_left(found, (since, ""))
        high = bisect_right(found, (referral.accepted_at, "\uffff"))
        return any(rid != referral.referral_id for _, rid in found[low:high])


def outcome_of(
    referral: StoredReferral,
    ruleset: Ruleset,
    history: History,
    seen: dict[tuple[Facts, bool], Outcome] | None = None,
) -> Outcome:
    """Where `referral` goes under `ruleset`. The engine is a pure function of the facts and whether the
    referral is a repeat, so `seen` (one per ruleset) keeps each answer for the next referral with the same
    facts: many referrals share them (the same concerns, role, agency and risk)."""
    repeat = history.is_repeat(referral, ruleset.overrides.repeat_referral.within_days)
    if seen is None:
        return _outcome(referral.facts, ruleset, repeat)
    key = (referral.facts, repeat)
    found = seen.get(key)
    if found is None:
        found = seen[key] = _outcome(referral.facts, ruleset, repeat)
    return found


def _outcome(facts: Facts, ruleset: Ruleset, repeat: bool) -> Outcome:
    findings, _notes, drafts, flags = route(facts, ruleset, is_repeat=repeat, explain=False)
    return Outcome(
        services={draft.service: draft.priority for draft in drafts},
        flags=frozenset(flags),
        every_rule=ruleset.rules,
        rules=findings,
    )


def _summary(finding: RuleFinding) -> tuple[str, Service | None, Priority | None, tuple[Flag, ...]]:
    return (finding.status.value, finding.service, finding.priority, tuple(sorted(finding.flags)))


def compare(
    period: Sequence[StoredReferral], everyone: Iterable[StoredReferral], live: Ruleset, candidate: Ruleset
) -> Diff:
    """Replay `period` under both rulesets; `everyone` holds the subjects' other referrals for repeats."""
    history = History(everyone)
    diff = Diff(live.version, candidate.version)
    seen_live: dict[tuple[Facts, bool], Outcome] = {}
    seen_candidate: dict[tuple[Facts, bool], Outcome] = {}
    for referral in period:
        diff.replayed += 1
        before = outcome_of(referral, live, history, seen_live)
        after = outcome_of(referral, candidate, history, seen_candidate)
        if before.services == after.services and before.flags == after.flags:
            continue
        rid = referral.referral_id
        diff.moved.add(rid)
        diff.moved_ids.append(rid)
        if before.services.keys() != after.services.keys():
            diff.service_changed.add(rid)
        if any(before.services[s] != after.services[s] for s in before.services.keys() & after.services.keys()):
            diff.priority_changed.add(rid)
        if before.flags != after.flags:
            diff.flags_changed.add(rid)
        for service in sorted(before.services.keys() | after.services.keys()):
            if before.services.get(service) != after.services.get(service):
                diff.by_service[service.value].add(rid)
        rules_before, rules_after = before.findings, after.findings
        for rule_id in sorted(rules_before.keys() | rules_after.keys()):
            if rules_before.get(rule_id) != rules_after.get(rule_id):
                diff.by_rule[rule_id].add(rid)
        if rules_before == rules_after:  # an override's settings moved it
            diff.by_rule["(overrides)"].add(rid)
    return diff


def changes_per_rule(diff: Diff) -> list[tuple[str, Tally]]:
    return sorted(diff.by_rule.items())


def changes_per_service(diff: Diff) -> list[tuple[str, Tally]]:
    return sorted(diff.by_service.items())


def summary_counts(diff: Diff) -> Counter[str]:
    return Counter(
        {
            "replayed": diff.replayed,
            "moved": diff.moved.referrals,
            "service": diff.service_changed.referrals,
            "priority": diff.priority_changed.referrals,
            "flags": diff.flags_changed.referrals,
        }
    )
