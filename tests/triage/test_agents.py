"""Triage's handlers called alone, with a fake service object: tables as dicts, topics that record."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry

from schemas.codec import decode
from schemas.decision import TriageDecision
from schemas.referral import Referral
from services.triage.agents import apply_to_case, decide_referral
from services.triage.cases.records import SubjectHistory
from services.triage.cases.referral_state import ReferralState
from services.triage.cases.sla import DeadlineIndex
from services.triage.metrics import TriageMetrics
from services.triage.routing.ruleset import Ruleset
from tests.support.fake_topics import RecordingTopic
from tests.triage.referral_factory import build_referral

SUBJECT = "5" * 64


def fake_triage(ruleset: Ruleset) -> Any:
    return SimpleNamespace(
        ruleset=ruleset,
        cases={},
        subject_history={},
        open_items=DeadlineIndex(),
        metrics=TriageMetrics.create(CollectorRegistry()),
        **{name: RecordingTopic() for name in ("by_subject", "audit", "decisions", "escalations", "outcomes")},
    )


async def test_decide_referral_sends_the_decision_and_remembers_the_subject(default_ruleset: Ruleset) -> None:
    triage = fake_triage(default_ruleset)
    first = build_referral(subject_key=SUBJECT, concerns=["domestic_abuse"], dash_score=15)

    await decide_referral(first, triage)
    await decide_referral(first, triage)  # a redelivery: the same decision, the history unchanged

    [(key, value), (key_again, value_again)] = triage.decisions.sent
    assert key == key_again == first.referral_id.encode()
    assert value == value_again
    assert decode(value, TriageDecision).referral_id == first.referral_id
    history = decode(triage.subject_history[SUBJECT.encode()], SubjectHistory)
    assert [prior.referral_id for prior in history.referrals] == [first.referral_id]


async def test_a_referral_then_its_decision_open_the_case_and_a_redelivery_resends_the_same(
    default_ruleset: Ruleset,
) -> None:
    triage = fake_triage(default_ruleset)
    referral = build_referral(subject_key=SUBJECT, concerns=["domestic_abuse"], dash_score=15)
    key = referral.referral_id.encode()

    await apply_to_case(referral, triage)
    [(by_subject_key, forwarded)] = triage.by_subject.sent
    assert by_subject_key == SUBJECT.encode()
    assert decode(forwarded, Referral) == referral
    assert decode(triage.cases[key], ReferralState).referral == referral
    assert len(triage.open_items) == 0

    await decide_referral(referral, triage)
    [(_, decided)] = triage.decisions.sent
    decision = decode(decided, TriageDecision)
    await apply_to_case(decision, triage)
    state = decode(triage.cases[key], ReferralState)
    assert state.case is not None
    assert set(state.case.items) == {a.service for a in decision.assignments}
    assert len(triage.open_items) == 1
    audited = list(triage.audit.sent)
    assert audited

    await apply_to_case(decision, triage)  # redelivered: nothing changes, the same audit events go out again
    assert decode(triage.cases[key], ReferralState) == state
    assert triage.audit.sent == audited + audited
