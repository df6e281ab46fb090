"""The overrides that follow the rules: nothing matched, repeat referral, out of area,
no lawful basis, merging per service, immediate danger. Pure functions over draft assignments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from schemas.decision import Flag
from schemas.vocabulary import PRIORITY_RANK, Priority, Service
from services.triage.routing.conditions import Facts, Outcome, RuleOutcomes, holds
from services.triage.routing.rule_format import FlagRaised
from services.triage.routing.ruleset import Ruleset
from services.triage.routing.ruleset_overrides import NoLawfulBasis, NothingMatched, StatedBasis


@dataclass(frozen=True)
class Draft:
    """An assignment before deadlines are set: service, priority, and the rules and reasons behind it.

    `rule_ids` and `reasons` pair up one to one until drafts are merged.
    """

    service: Service
    priority: Priority
    rule_ids: tuple[str, ...]
    reasons: tuple[str, ...]
    replaces: tuple[Service, ...] = ()
    """The services this assignment stands in for, the most pressing first."""

    def noting(self, rule_id: str, reason: str) -> Draft:
        return Draft(self.service, self.priority, (*self.rule_ids, rule_id), (*self.reasons, reason), self.replaces)

    def sent_to(self, service: Service, rule_id: str, reason: str) -> Draft:
        """This assignment handed to `service` instead, keeping its priority and saying why."""
        return Draft(service, self.priority, (*self.rule_ids, rule_id), (*self.reasons, reason), (self.service,))

    def raised_to(self, priority: Priority, rule_id: str, reason: str) -> Draft:
        raised = _most_pressing(self.priority, priority)
        return Draft(self.service, raised, (*self.rule_ids, rule_id), (*self.reasons, reason), self.replaces)


@dataclass(frozen=True)
class OverrideFinding:
    """Whether one override applied to the referral, and why, in plain words."""

    rule_id: str
    applied: bool
    detail: str


Spec = TypeVar("Spec", bound=FlagRaised)


def raised(specs: Iterable[Spec], facts: Facts, outcomes: RuleOutcomes) -> tuple[Spec, ...]:
    """The flag specs whose conditions hold (a condition left unknown by a missing age raises nothing)."""
    return tuple(spec for spec in specs if spec.when is None or holds(spec.when, facts, outcomes) is Outcome.met)


def raised_flags(specs: Iterable[FlagRaised], facts: Facts, outcomes: RuleOutcomes) -> tuple[Flag, ...]:
    """The flags whose conditions hold."""
    return tuple(spec.flag for spec in raised(specs, facts, outcomes))


def apply_overrides(
    ruleset: Ruleset,
    facts: Facts,
    outcomes: RuleOutcomes,
    drafts: Sequence[Draft],
    flags: set[Flag],
    *,
    is_repeat: bool,
    explain: bool = True,
) -> tuple[list[Draft], set[Flag], list[OverrideFinding]]:
    """The overrides in the order the routing policy lists them, merging to one assignment per service
    before immediate danger raises them all. With `explain=False` (the what-if replay) the same overrides
    apply, but the reasons they add are empty strings and no notes are returned."""
    sections = ruleset.overrides
    flags = set(flags)
    result, nothing_note = _nothing_matched(list(drafts), sections.nothing_matched)
    repeat = sections.repeat_referral
    if is_repeat:
        flags.update(raised_flags(repeat.flags, facts, outcomes))
        reason = repeat.reason.format(days=repeat.within_days) if explain else ""
        result = [draft.noting(repeat.rule_id, reason) for draft in result]
    flag_notes = []
    for route in sections.flag_routes:
        applies = route.flag in flags
        if explain:
            flag_notes.append(
                OverrideFinding(
                    route.rule_id,
                    applies,
                    f"flag {route.flag} raised: an item for {route.route_to}"
                    if applies
                    else f"flag {route.flag} not raised",
                )
            )
        if applies:
            result.append(Draft(route.route_to, route.priority, (route.rule_id,), (route.reason,)))
    result, area_note = _out_of_area(result, ruleset, facts, explain)
    result, consent_note = _no_lawful_basis(result, sections.no_lawful_basis, facts, flags, explain)
    result = merged(result, ruleset.rule_order)
    danger = sections.immediate_danger
    if facts.immediate_danger:
        flags.update(raised_flags(danger.flags, facts, outcomes))
        result = [draft.raised_to(danger.raise_to, danger.rule_id, danger.reason) for draft in result]
    if not explain:
        return result, flags, []
    repeat_note = OverrideFinding(
        repeat.rule_id,
        is_repeat,
        ("the same subject had an accepted referral" if is_repeat else "no earlier accepted referral")
        + f" in the previous {repeat.within_days} days",
    )
    danger_note = OverrideFinding(
        danger.rule_id,
        facts.immediate_danger,
        (
            f"immediate danger reported: every assignment raised to {danger.raise_to}"
            if facts.immediate_danger
            else "no immediate danger reported"
        ),
    )
    return result, flags, [nothing_note, repeat_note, *flag_notes, area_note, consent_note, danger_note]


def _nothing_matched(drafts: list[Draft], section: NothingMatched) -> tuple[list[Draft], OverrideFinding]:
    if drafts:
        return drafts, OverrideFinding(section.rule_id, False, "a rule routed the referral")
    fallback = Draft(section.route_to, section.priority, (section.rule_id,), (section.reason,))
    return [fallback], OverrideFinding(section.rule_id, True, "no rule routed the referral")


def merged(drafts: Iterable[Draft], rank: Mapping[str, int]) -> list[Draft]:
    """One draft per service: the highest priority, every rule id and reason, in the order of `rank`."""
    groups: dict[Service, list[Draft]] = {}
    for draft in drafts:
        groups.setdefault(draft.service, []).append(draft)
    return [_merge(group, rank) for group in groups.values()]


def _merge(group: list[Draft], rank: Mapping[str, int]) -> Draft:
    pressing = sorted(group, key=lambda draft: PRIORITY_RANK[draft.priority])
    replaced = tuple(dict.fromkeys(service for draft in pressing for service in draft.replaces))
    pairs = [pair for draft in group for pair in zip(draft.rule_ids, draft.reasons, strict=True)]
    pairs.sort(key=lambda pair: rank.get(pair[0], len(rank)))
    return Draft(
        service=group[0].service,
        priority=pressing[0].priority,
        rule_ids=tuple(dict.fromkeys(rule_id for rule_id, _ in pairs)),
        reasons=tuple(dict.fromkeys(reason for _, reason in pairs)),
        replaces=replaced,
    )


def _most_pressing(first: Priority, second: Priority) -> Priority:
    return min(first, second, key=lambda priority: PRIORITY_RANK[priority])


def _out_of_area(
    drafts: list[Draft], ruleset: Ruleset, facts: Facts, explain: bool
) -> tuple[list[Draft], OverrideFinding]:
    section = ruleset.overrides.out_of_area
    district = facts.district
    if district is None:
        return drafts, OverrideFinding(section.rule_id, False, "no district given")
    outside = sorted({draft.service.value for draft in drafts if not ruleset.covers(draft.service, district)})
    if not outside:
        return drafts, OverrideFinding(section.rule_id, False, "every service covers the subject's district")
    moved = [
        draft
        if ruleset.covers(draft.service, district)
        else draft.sent_to(
            section.route_to, section.rule_id, section.reason.format(service=draft.service) if explain else ""
        )
        for draft in drafts
    ]
    detail = f"district outside the coverage of {', '.join(outside)}: sent to {section.route_to}"
    return moved, OverrideFinding(section.rule_id, True, detail)


def _no_lawful_basis(
    drafts: list[Draft], section: NoLawfulBasis, facts: Facts, flags: set[Flag], explain: bool
) -> tuple[list[Draft], OverrideFinding]:
    basis = StatedBasis(facts.consent_basis.value) if facts.consent_basis is not None else StatedBasis.missing

    def unapplied(detail: str) -> tuple[list[Draft], OverrideFinding]:
        return drafts, OverrideFinding(section.rule_id, False, detail)

    if facts.consent_obtained:
        return unapplied("consent obtained")
    if basis not in section.basis_in:
        return unapplied(f"consent not obtained but lawful basis {basis.value} given")
    overriding = sorted(flag.value for flag in flags.intersection(section.unless_flags))
    if overriding:
        return unapplied(f"consent not obtained but flag {', '.join(overriding)} raised")
    kept = {*section.keep_services, section.route_to}
    if all(draft.service in kept for draft in drafts):
        return unapplied(f"consent not obtained and basis {basis.value}, but no assignment needs consent")
    moved = [
        draft
        if draft.service in kept
        else draft.sent_to(
            section.route_to, section.rule_id, section.reason.format(service=draft.service) if explain else ""
        )
        for draft in drafts
    ]
    detail = f"consent not obtained and basis {basis.value}: sent to {section.route_to}" + (
        f" except {', '.join(sorted(service.value for service in section.keep_services))}"
        if section.keep_services
        else ""
    )
    return moved, OverrideFinding(section.rule_id, True, detail)
