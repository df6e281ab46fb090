"""The pure routing engine: a referral, a ruleset, the time and the subject's history in; a decision out.

No I/O and no clock reads: `now` is an argument. `decide` is `explain(...).decision`, so the
explanation an officer or rule author reads can never disagree with the decision sent.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from schemas.decision import Assignment, Flag, TriageDecision
from schemas.referral import Referral
from schemas.vocabulary import PRIORITY_RANK, Concern, Priority, Service
from services.triage.routing.conditions import (
    Check,
    Facts,
    Outcome,
    RuleOutcomes,
    describe,
    evaluate,
    facts_of,
    fails_on_concerns,
    holds,
)
from services.triage.routing.overrides import Draft, OverrideFinding, apply_overrides, raised
from services.triage.routing.rule_format import Rule
from services.triage.routing.ruleset import Ruleset

__all__ = [
    "Explanation",
    "PriorSubjectReferral",
    "RuleFinding",
    "RuleStatus",
    "decide",
    "decision_id_for",
    "explain",
    "route",
]

REASON_LIMIT = 300


class PriorSubjectReferral(BaseModel):
    """An earlier accepted referral of the same subject (matched by the keyed hash), for the repeat rule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: str
    accepted_at: AwareDatetime
    concerns: tuple[Concern, ...] = ()


class RuleStatus(StrEnum):
    fired = "fired"
    not_matched = "not matched"
    age_unknown = "age unknown"


@dataclass(frozen=True)
class RuleFinding:
    """What one rule made of the referral, condition by condition."""

    rule_id: str
    description: str
    status: RuleStatus
    checks: tuple[Check, ...]
    service: Service | None
    """Where the rule sent the referral: its own service, or manual review when the age was unknown."""
    priority: Priority | None
    flags: tuple[Flag, ...]


@dataclass(frozen=True)
class Explanation:
    """Every rule and override, fired or not and why, and the decision they add up to."""

    ruleset_version: str
    rules: tuple[RuleFinding, ...]
    overrides: tuple[OverrideFinding, ...]
    decision: TriageDecision


def decide(
    referral: Referral, ruleset: Ruleset, now: datetime, history: Sequence[PriorSubjectReferral]
) -> TriageDecision:
    """Where `referral` goes under `ruleset`, decided at `now`: the rules, then the overrides."""
    return explain(referral, ruleset, now, history).decision


def explain(
    referral: Referral, ruleset: Ruleset, now: datetime, history: Sequence[PriorSubjectReferral]
) -> Explanation:
    """The decision with the reasoning behind it."""
    window = ruleset.overrides.repeat_referral.within_days
    is_repeat = bool(_earlier_referrals(referral, now, history, window))
    findings, notes, drafts, flags = route(facts_of(referral.submission), ruleset, is_repeat=is_repeat)
    decision = TriageDecision(
        decision_id=decision_id_for(referral.referral_id),
        referral_id=referral.referral_id,
        decided_at=now,
        ruleset_version=ruleset.version,
        flags=sorted(flags, key=lambda flag: flag.value),
        assignments=_assignments(drafts, ruleset, now),
        source_agency=referral.submission.source.agency.value,
        concerns=[concern.value for concern in referral.submission.concerns],
    )
    return Explanation(ruleset.version, tuple(findings), tuple(notes), decision)


def route(
    facts: Facts, ruleset: Ruleset, *, is_repeat: bool, explain: bool = True
) -> tuple[tuple[RuleFinding, ...], tuple[OverrideFinding, ...], list[Draft], set[Flag]]:
    """The rules and overrides on a referral's facts: findings, override notes, assignments before deadlines
    (one per service) and flags. What `explain` and the what-if replay (`routing/replay.py`) share.

    With `explain=False` (the replay) the same rules and overrides decide the same services, priorities,
    flags and rule ids, but nothing is put in plain words: findings are kept only for the rules that fired
    or were held for a missing age (every other rule was not matched) and carry no checks, each reason is an
    empty string (still one per rule id) and no override notes are returned."""
    findings, outcomes, drafts = _apply_rules(ruleset, facts, explain)
    flags = {flag for finding in findings for flag in finding.flags}
    drafts, flags, notes = apply_overrides(
        ruleset, facts, outcomes, drafts, flags, is_repeat=is_repeat, explain=explain
    )
    return tuple(findings), tuple(notes), drafts, flags


def decision_id_for(referral_id: str) -> str:
    """The initial decision's id: the same referral always gets the same id (safe to redeliver)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sosafe:decision:{referral_id}:initial"))


def _apply_rules(
    ruleset: Ruleset, facts: Facts, explain: bool
) -> tuple[list[RuleFinding], dict[str, Outcome], list[Draft]]:
    """Each rule in order: its finding, every rule's outcome, and the assignments the rules ask for."""
    outcomes: dict[str, Outcome] = {}
    findings: list[RuleFinding] = []
    drafts: list[Draft] = []
    for rule in ruleset.rules if explain else _open_to(ruleset, facts):
        outcome, checks = evaluate(rule.when, facts, outcomes, explain=explain)
        outcomes[rule.id] = outcome
        if outcome is Outcome.not_met and not explain:
            continue
        finding, draft = _apply_rule(rule, ruleset, facts, outcomes, outcome, checks, explain)
        findings.append(finding)
        if draft is not None:
            drafts.append(draft)
    return findings, outcomes, drafts


_screens: dict[int, dict[frozenset[Concern], tuple[Rule, ...]]] = {}
"""`id(ruleset)` -> concerns -> the ruleset's rules that those concerns do not rule out on their own. A
ruleset's entry goes when it is garbage collected, before its id can be reused (no iteration: replays may
run in two threads at once)."""


def _open_to(ruleset: Ruleset, facts: Facts) -> tuple[Rule, ...]:
    """The rules, in order, that a referral with the concerns of `facts` may meet. The replay skips the
    others (most rules name the concerns they are for): they come out "not matched" whatever the other
    facts, and a rule that is not in the outcomes counts as not matched (`after_rules`)."""
    screens = _screens.get(id(ruleset))
    if screens is None:
        screens = _screens.setdefault(id(ruleset), {})
        weakref.finalize(ruleset, _screens.pop, id(ruleset), None)
    found = screens.get(facts.concerns)
    if found is None:
        found = screens[facts.concerns] = tuple(
            rule for rule in ruleset.rules if not fails_on_concerns(rule.when, facts)
        )
    return found


def _apply_rule(
    rule: Rule,
    ruleset: Ruleset,
    facts: Facts,
    outcomes: RuleOutcomes,
    outcome: Outcome,
    checks: tuple[Check, ...],
    explain: bool,
) -> tuple[RuleFinding, Draft | None]:
    if outcome is Outcome.not_met:
        return RuleFinding(rule.id, rule.description, RuleStatus.not_matched, checks, None, None, ()), None

    def finding(
        status: RuleStatus, service: Service | None, priority: Priority | None, flags: tuple[Flag, ...] = ()
    ) -> RuleFinding:
        return RuleFinding(rule.id, rule.description, status, checks, service, priority, flags)

    priority, because = _priority(rule, facts, outcomes, explain)
    if outcome is Outcome.met:
        specs = raised(rule.flags, facts, outcomes)
        flags = tuple(spec.flag for spec in specs)
        if rule.route_to is None or priority is None:
            return finding(RuleStatus.fired, None, None, flags), None
        reasons = [""]
        if explain:
            reasons = [rule.description + ("" if because is None else f" (priority {priority}: {because})")]
            reasons += [spec.reason for spec in specs if spec.reason is not None]
        return finding(RuleStatus.fired, rule.route_to, priority, flags), Draft(
            rule.route_to, priority, (rule.id,) * len(reasons), tuple(reasons)
        )
    held = ruleset.overrides.age_unknown
    priority = priority or ruleset.overrides.nothing_matched.priority
    needed_by = rule.route_to.value if rule.route_to is not None else "its flags"
    reason = held.reason.format(rule=rule.id, service=needed_by) if explain else ""
    replaces = (rule.route_to,) if rule.route_to is not None and rule.route_to != held.route_to else ()
    return finding(RuleStatus.age_unknown, held.route_to, priority), Draft(
        held.route_to, priority, (rule.id,), (reason,), replaces
    )


def _priority(rule: Rule, facts: Facts, outcomes: RuleOutcomes, explain: bool) -> tuple[Priority | None, str | None]:
    """The rule's priority for this referral, and the conditions that chose it when not the usual one."""
    for choice in rule.priority_when:
        if holds(choice.when, facts, outcomes) is Outcome.met:
            return choice.priority, describe(choice.when) if explain else None
    return rule.priority, None


def _earlier_referrals(
    referral: Referral, now: datetime, history: Iterable[PriorSubjectReferral], within_days: int
) -> list[PriorSubjectReferral]:
    """Other referrals of the subject accepted in the `within_days` up to this one (none from its future)."""
    until = min(referral.accepted_at, now)
    since = referral.accepted_at - timedelta(days=within_days)
    return [
        prior for prior in history if prior.referral_id != referral.referral_id and since <= prior.accepted_at <= until
    ]


def _assignments(drafts: Iterable[Draft], ruleset: Ruleset, now: datetime) -> list[Assignment]:
    """Final assignments with deadlines, the most pressing first, then by service name."""
    assignments = [
        Assignment(
            service=draft.service,
            priority=draft.priority,
            due_at=ruleset.due_at(draft.priority, now),
            rule_ids=list(draft.rule_ids),
            reasons=[_fit(reason) for reason in draft.reasons],
            replaces_all=list(draft.replaces),
        )
        for draft in drafts
    ]
    return sorted(assignments, key=lambda a: (PRIORITY_RANK[a.priority], a.service.value))


def _fit(reason: str) -> str:
    return reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 1] + "…"
