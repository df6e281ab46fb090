"""The case agent's steps: a redelivered message re-sends exactly what its step sent, and changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas.action import ActionKind, OfficerAction
from services.triage.cases.queue import OfficerScope
from services.triage.cases.records import SlaCheck
from services.triage.cases.referral_state import OUTBOX_STEPS, ReferralState, Sent
from services.triage.cases.steps import on_action, on_decision, on_referral, on_sla_check
from services.triage.routing.rules import decide
from tests.triage.referral_factory import build_referral

DEADLINES = {p: timedelta(hours=h) for p, h in (("urgent", 4), ("high", 24), ("medium", 72), ("standard", 120))}


def due_at(priority: str, start: datetime) -> datetime:
    return start + DEADLINES[priority]


def test_referral_then_its_redelivery_forwards_once_and_replays_the_same_message(default_ruleset) -> None:
    """First sight forwards to be decided; a redelivery sends that same message again and writes nothing."""
    referral = build_referral()
    first = on_referral(None, referral)
    assert first.state is not None and [s.topic for s in first.sent] == ["sosafe-triage-by-subject"]
    again = on_referral(first.state, referral)
    assert again.redelivered and again.state is None and again.sent == first.sent


def test_decision_overtaking_its_referral_is_applied_and_the_referral_is_not_decided_again(default_ruleset) -> None:
    """After a crash a decision may arrive before its redelivered referral; nothing is lost or repeated."""
    referral = build_referral()
    decision = decide(referral, default_ruleset, referral.accepted_at, [])
    applied = on_decision(None, decision)
    assert applied.state is not None and applied.state.case is not None
    assert [s.topic for s in applied.sent] == ["audit.events"] * (1 + len(decision.assignments))  # partner unknown
    late = on_referral(applied.state, referral)
    assert late.state is not None and late.state.referral == referral
    assert [s.topic for s in late.sent] == ["referrals.outcomes"] * len(decision.assignments)  # told now
    assert late.state.outcomes_told == len(decision.assignments)


def test_redelivered_decision_and_action_replay_their_audit_events(default_ruleset) -> None:
    """Same events, same hashes: the hash chain never forks on redelivery."""
    referral = build_referral()
    state = on_referral(None, referral).state
    decision = decide(referral, default_ruleset, referral.accepted_at, [])
    applied = on_decision(state, decision)
    n = len(decision.assignments)
    assert [s.topic for s in applied.sent] == ["audit.events"] * (1 + n) + ["referrals.outcomes"] * n
    assert on_decision(applied.state, decision).sent == applied.sent
    service = decision.assignments[0].service
    action = OfficerAction(
        action_id="a1",
        referral_id=referral.referral_id,
        service=service,
        kind=ActionKind.claim,
        officer_id="o1",
        requested_at=referral.accepted_at,
    )
    officer = OfficerScope(officer_id="o1", services=frozenset({service}))
    claimed = on_action(applied.state, action, officer, "v", due_at)
    assert claimed.outcome is not None and claimed.outcome.status == "applied"
    replay = on_action(claimed.state, action, officer, "v", due_at)
    assert replay.redelivered and replay.sent == claimed.sent and replay.state is None


def test_sla_check_escalates_once_and_its_redelivery_replays(default_ruleset) -> None:
    """An overdue item gives one escalation; the same check again re-sends it; a later check is quiet."""
    referral = build_referral()
    decision = decide(referral, default_ruleset, referral.accepted_at, [])
    state = on_decision(on_referral(None, referral).state, decision).state
    late = referral.accepted_at + timedelta(days=30)
    check = SlaCheck(referral_id=referral.referral_id, checked_at=late)
    first = on_sla_check(state, check)
    assert len(first.escalations) == len(decision.assignments)
    assert on_sla_check(first.state, check).sent == first.sent
    quiet = on_sla_check(first.state, SlaCheck(referral_id=referral.referral_id, checked_at=late + timedelta(1)))
    assert quiet.sent == [] and quiet.state is None


def test_outbox_keeps_only_recent_steps() -> None:
    """The outbox is bounded; old steps (long since committed) are dropped."""
    state = ReferralState()
    for n in range(OUTBOX_STEPS + 10):
        state = state.with_step(f"s{n}", [])
    for n in range(OUTBOX_STEPS + 10):
        state = state.with_step(f"t{n}", [Sent(step=f"t{n}", topic="x", key="k", value="{}")])
    assert not state.knows_step("t0") and state.knows_step(f"t{OUTBOX_STEPS + 9}")
    assert len(state.outbox) == OUTBOX_STEPS
