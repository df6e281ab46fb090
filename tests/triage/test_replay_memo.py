"""The replay keeps each ruleset's answer per (facts, repeat): referrals sharing facts get the answer the
engine gives each of them alone, and a repeat referral with the same facts is not given a first one's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.triage.routing.conditions import Facts, facts_of
from services.triage.routing.replay import History, Outcome, StoredReferral, compare, outcome_of
from services.triage.routing.ruleset import DEFAULT_RULESET_PATH, load_ruleset
from tests.triage.referral_factory import SUBMITTED_AT, build_referral


def _stored(n: int, subject: str | None, **facts: Any) -> StoredReferral:
    referral = build_referral(reference=f"MEMO-{n}", **facts)
    at = SUBMITTED_AT + timedelta(days=n)
    return StoredReferral(f"memo-{n}", at, subject, facts_of(referral.submission))


def test_shared_facts_get_the_engines_own_answer_and_repeats_are_told_apart() -> None:
    ruleset = load_ruleset(DEFAULT_RULESET_PATH)
    same = {"concerns": ["hate_crime"], "age": 40}
    referrals = [
        _stored(0, "subject-a", **same),
        _stored(1, "subject-a", **same),  # a repeat of the first: the repeat override may apply
        _stored(2, "subject-b", **same),
        _stored(3, None, concerns=["domestic_abuse"], dash_score=16),
    ]
    history = History(referrals)
    seen: dict[tuple[Facts, bool], Outcome] = {}
    kept = [outcome_of(r, ruleset, history, seen) for r in referrals]
    alone = [outcome_of(r, ruleset, history) for r in referrals]
    assert kept == alone
    assert len(seen) == 3  # first-time hate crime, repeat hate crime, domestic abuse
    assert history.is_repeat(referrals[1], ruleset.overrides.repeat_referral.within_days)
    assert compare(referrals, referrals, ruleset, ruleset).moved.referrals == 0
