"""What the case agent does with each message for one referral (pure): the new state and the messages.

Each step has an id (`referral:<id>`, the decision id, the action id, `sla:<time>`). A message whose step
the state already holds is a redelivery: its step re-sends the stored messages and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from schemas.action import OfficerAction
from schemas.codec import encode
from schemas.decision import TriageDecision
from schemas.escalation import Escalation
from schemas.referral import Referral
from services.common import topics
from services.triage.cases.case import apply_decision
from services.triage.cases.queue import ActionOutcome, OfficerScope, apply_action, find_breaches
from services.triage.cases.records import SlaCheck
from services.triage.cases.referral_state import ReferralState, Sent
from services.triage.cases.trail import action_events, decision_events, escalation_event
from services.triage.routing.deadlines import DueAt


@dataclass(frozen=True)
class Step:
    state: ReferralState | None
    """The state to write; None when nothing changes."""
    sent: list[Sent]
    """Messages to send (for a redelivery: the stored ones again)."""
    redelivered: bool = False
    decision: TriageDecision | None = None
    outcome: ActionOutcome | None = None
    escalations: list[Escalation] = field(default_factory=list)


def _sent(step: str, topic: str, key: str, value: BaseModel) -> Sent:
    return Sent(step=step, topic=topic, key=key, value=encode(value).decode())


def _replay(state: ReferralState, step: str) -> Step:
    return Step(None, state.sent_by(step), redelivered=True)


def on_referral(state: ReferralState | None, referral: Referral) -> Step:
    """Keep the referral and pass it on, keyed by subject, to be decided."""
    step = f"referral:{referral.referral_id}"
    if state is not None and state.referral is not None:
        return _replay(state, step)
    forward = _sent(step, topics.TRIAGE_BY_SUBJECT, referral.subject_key or referral.referral_id, referral)
    if state is not None and state.decisions:  # a decision overtook its redelivered referral: no need to decide
        return Step(state.with_step(step, [], referral=referral), [])
    base = state or ReferralState()
    return Step(base.with_step(step, [forward], referral=referral), [forward])


def on_decision(state: ReferralState | None, decision: TriageDecision) -> Step:
    """Queue the decision's assignments; audit `triaged` and `queued`."""
    step = decision.decision_id
    base = state or ReferralState()
    if base.has_decision(decision.decision_id):
        return _replay(base, step)
    case, items = apply_decision(base.case, decision, decision.decided_at)
    events, head = decision_events(base.head, decision, items)
    sent = [_sent(step, topics.AUDIT, decision.referral_id, event) for event in events]
    state = base.with_step(step, sent, case=case, decisions=[*base.decisions, decision], head=head or base.head)
    return Step(state, sent, decision=decision)


def on_action(
    state: ReferralState,
    action: OfficerAction,
    officer: OfficerScope,
    ruleset_version: str,
    due_at: DueAt,
) -> Step:
    """Apply an officer's action (or refuse it); audit it; publish a follow-up decision if there is one."""
    assert state.case is not None
    step = action.action_id
    outcome = apply_action(state.case, action, officer, action.requested_at, ruleset_version, due_at)
    if outcome.redelivered:
        return Step(None, state.sent_by(step), redelivered=True, outcome=outcome)
    events, head = action_events(state.head, action, outcome)
    sent = [_sent(step, topics.AUDIT, action.referral_id, event) for event in events]
    decisions = list(state.decisions)
    if outcome.follow_up is not None:
        sent.append(_sent(step, topics.DECISIONS, action.referral_id, outcome.follow_up))
        decisions.append(outcome.follow_up)
    new_state = state.with_step(step, sent, case=outcome.case, decisions=decisions, head=head or state.head)
    return Step(new_state, sent, outcome=outcome)


def on_sla_check(state: ReferralState, check: SlaCheck) -> Step:
    """Escalate each open item past its deadline once per deadline; audit `escalated`."""
    assert state.case is not None
    step = f"sla:{check.checked_at.isoformat()}"
    if state.knows_step(step):
        return _replay(state, step)
    case, escalations = find_breaches(state.case, check.checked_at)
    if not escalations:
        return Step(None, [])
    head = state.head
    sent = []
    for escalation in escalations:
        sent.append(_sent(step, topics.ESCALATIONS, check.referral_id, escalation))
        event, head = escalation_event(head, escalation)
        sent.append(_sent(step, topics.AUDIT, check.referral_id, event))
    return Step(state.with_step(step, sent, case=case, head=head), sent, escalations=escalations)
