"""A referral's facts as the rules see them, and a rule's conditions tested against them in plain words.

Conditions have three outcomes: met, not met, and unknown. Only a missing age makes a condition
unknown, except `age_given`, which asks about the missing age itself; any other missing
fact simply does not meet a condition that needs it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from schemas.submission import ReferralSubmission
from schemas.vocabulary import Agency, Concern, ConsentBasis, District, RiskLevel, Role
from services.triage.routing.rule_format import When


class Outcome(StrEnum):
    met = "met"
    not_met = "not met"
    unknown = "unknown (age not given)"


@dataclass(frozen=True)
class Check:
    """One condition of a rule, in plain words, and whether this referral meets it."""

    condition: str
    outcome: Outcome


@dataclass(frozen=True)
class Facts:
    """What the rules read from a referral. Holds no names, contact details, postcode or narrative."""

    age: int | None
    concerns: frozenset[Concern]
    role: Role
    agency: Agency
    dash_score: int | None
    risk_level: RiskLevel | None
    children_under_18: int | None
    days_to_release: int | None
    """Custody release date minus the referral's date (negative when already released)."""
    consent_obtained: bool
    consent_basis: ConsentBasis | None
    district: District | None
    immediate_danger: bool
    safe_to_contact: bool | None = None
    """The referrer's answer to "is it safe to contact the subject directly?"; None when not asked."""


def age_on(date_of_birth: date, day: date) -> int:
    """Whole years from `date_of_birth` to `day` (a 29 February birthday counts on 1 March)."""
    before_birthday = (day.month, day.day) < (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - int(before_birthday)


def facts_of(submission: ReferralSubmission) -> Facts:
    """The referral's facts, read as at `submitted_at`."""
    day = submission.submitted_at.date()
    subject = submission.subject
    age = age_on(subject.date_of_birth, day) if subject.date_of_birth is not None else subject.age
    release = submission.custody.release_date
    return Facts(
        age=age,
        concerns=frozenset(submission.concerns),
        role=submission.role,
        agency=submission.source.agency,
        dash_score=submission.risk.dash_score,
        risk_level=submission.risk.level,
        children_under_18=submission.household.children_under_18,
        days_to_release=(release - day).days if release is not None else None,
        consent_obtained=submission.consent.obtained,
        consent_basis=submission.consent.basis,
        district=subject.district,
        immediate_danger=submission.risk.immediate_danger,
        safe_to_contact=subject.safe_to_contact,
    )


RuleOutcomes = Mapping[str, Outcome]
"""Rule id -> outcome of each rule evaluated so far (met means it fired)."""
Test = Callable[[Facts, RuleOutcomes], Outcome]


def evaluate(
    when: When, facts: Facts, rules: RuleOutcomes, *, explain: bool = True
) -> tuple[Outcome, tuple[Check, ...]]:
    """Whether all of `when` holds, and each condition's own outcome. With `explain=False` (the what-if
    replay) the same tests run but no checks are kept, and the first condition not met decides."""
    if explain:
        checks = tuple(Check(text, test(facts, rules)) for text, test in _conditions(when))
        return all_of(check.outcome for check in checks), checks
    verdict = Outcome.met
    for _, test in _conditions(when):
        outcome = test(facts, rules)
        if outcome is Outcome.not_met:
            return outcome, ()
        if outcome is Outcome.unknown:
            verdict = outcome
    return verdict, ()


def fails_on_concerns(when: When, facts: Facts) -> bool:
    """Whether one of `when`'s concerns conditions is not met by `facts`: then no referral with the same
    concerns meets `when`, whatever its other facts. The same tests as `evaluate`, only those on the
    concerns (they come first in the reading order and read nothing else)."""
    count = sum(given is not None for given in (when.concerns_any, when.concerns_all, when.concerns_at_least))
    return any(test(facts, {}) is Outcome.not_met for _, test in _conditions(when)[:count])


def holds(when: When, facts: Facts, rules: RuleOutcomes) -> Outcome:
    """Whether all of `when` holds, without saying why."""
    return evaluate(when, facts, rules, explain=False)[0]


def describe(when: When) -> str:
    """`when` in plain words, e.g. "concerns include knife crime or county lines"."""
    return " and ".join(text for text, _ in _conditions(when))


def all_of(outcomes: Iterable[Outcome]) -> Outcome:
    """Met when every outcome is met; not met when any is not met; else unknown."""
    found = set(outcomes)
    if Outcome.not_met in found:
        return Outcome.not_met
    return Outcome.unknown if Outcome.unknown in found else Outcome.met


def any_of(outcomes: Iterable[Outcome]) -> Outcome:
    """Met when any outcome is met; not met when none is met or unknown; else unknown."""
    found = set(outcomes)
    if Outcome.met in found:
        return Outcome.met
    return Outcome.unknown if Outcome.unknown in found else Outcome.not_met


def _known(holds: bool) -> Outcome:
    return Outcome.met if holds else Outcome.not_met


def _words(values: tuple[StrEnum, ...], joiner: str = "or") -> str:
    names = [value.value.replace("_", " ") for value in values]
    if len(names) == 1 or not joiner:
        return ", ".join(names)
    return f"{', '.join(names[:-1])} {joiner} {names[-1]}"


_compiled: dict[int, tuple[tuple[str, Test], ...]] = {}
"""`id(when)` -> its conditions, built once per `When` (a ruleset's are read for every referral); an entry
goes when its `When` is garbage collected, before the id can be reused."""


def _conditions(when: When) -> tuple[tuple[str, Test], ...]:
    """Each condition given in `when`, as (plain words, test), in a fixed reading order (the concerns
    conditions first: `fails_on_concerns` relies on it)."""
    found = _compiled.get(id(when))
    if found is None:
        found = _compiled[id(when)] = tuple(_compile(when))
        weakref.finalize(when, _compiled.pop, id(when), None)
    return found


def _compile(when: When) -> list[tuple[str, Test]]:
    found: list[tuple[str, Test]] = []
    if (concerns := when.concerns_any) is not None:
        found.append((f"concerns include {_words(concerns)}", lambda f, _: _known(not f.concerns.isdisjoint(concerns))))
    if (every := when.concerns_all) is not None:
        found.append((f"concerns include {_words(every, 'and')}", lambda f, _: _known(f.concerns.issuperset(every))))
    if (counted := when.concerns_at_least) is not None:
        found.append(
            (
                f"at least {counted.count} of: {_words(counted.of, '')}",
                lambda f, _: _known(len(f.concerns.intersection(counted.of)) >= counted.count),
            )
        )
    if (roles := when.role_in) is not None:
        found.append((f"role is {_words(roles)}", lambda f, _: _known(f.role in roles)))
    if (agencies := when.agency_in) is not None:
        found.append((f"referred by {_words(agencies)}", lambda f, _: _known(f.agency in agencies)))
    if (low := when.min_age) is not None:
        found.append((f"aged {low} or over", lambda f, _: Outcome.unknown if f.age is None else _known(f.age >= low)))
    if (given := when.age_given) is not None:
        found.append(("age given" if given else "age not given", lambda f, _: _known((f.age is not None) == given)))
    if (high := when.max_age) is not None:
        found.append(
            (f"aged {high} or under", lambda f, _: Outcome.unknown if f.age is None else _known(f.age <= high))
        )
    if (score := when.dash_score_at_least) is not None:
        found.append(
            (f"DASH score {score} or more", lambda f, _: _known(f.dash_score is not None and f.dash_score >= score))
        )
    if (levels := when.risk_level_in) is not None:
        found.append((f"risk level {_words(levels)}", lambda f, _: _known(f.risk_level in levels)))
    if (children := when.children_in_household_at_least) is not None:
        found.append(
            (
                f"{children} or more children under 18 in the household",
                lambda f, _: _known((f.children_under_18 or 0) >= children),
            )
        )
    if (days := when.released_within_days) is not None:
        found.append(
            (
                f"custody release date within {days} days of the referral",
                lambda f, _: _known(f.days_to_release is not None and abs(f.days_to_release) <= days),
            )
        )
    if (consent := when.consent_obtained) is not None:
        found.append(
            (
                "consent obtained" if consent else "consent not obtained",
                lambda f, _: _known(f.consent_obtained == consent),
            )
        )
    if (safe := when.safe_to_contact) is not None:
        found.append(
            (
                "safe to contact directly" if safe else "not safe to contact directly",
                lambda f, _: _known(f.safe_to_contact is safe),
            )
        )
    if (earlier := when.after_rules) is not None:
        names = " and ".join(f"'{rule_id}'" for rule_id in earlier)
        found.append((f"rule {names} fired", lambda _, rules: all_of(rules.get(r, Outcome.not_met) for r in earlier)))
    if (groups := when.any_of) is not None:
        text = "either " + " or ".join(describe(group) for group in groups)
        found.append((text, lambda f, rules: any_of(holds(g, f, rules) for g in groups)))
    return found
