"""What the case agent does with each message for one referral (pure): the new state and the messages.

Each step has an id (`referral:<id>`, the decision id, the action id, `sla:<time>`). A message whose step
the state already holds is a redelivery: its step re-sends the stored messages and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel

from schemas.action import OfficerAction
from schemas.codec import encode
from schemas.decision import TriageDecision
from schemas.escalation import Escalation
from schemas.referral import Referral
from schemas.update import ReferralUpdate
from schemas.vocabulary import Service
from services.common import topics
from services.triage.cases.case import Case, apply_decision
from services.triage.cases.outcomes import outcomes_for
from services.triage.cases.queue import ActionOutcome, OfficerScope, apply_action, find_breaches
from services.triage.cases.records import SlaCheck
from services.triage.cases.referral_state import ReferralState, Sent
from services.triage.cases.trail import (
    action_events,
    decision_events,
    escalation_event,
    information_event,
    withdrawal_event,
)
from services.triage.cases.updates import follow_up_decision, information_fields, with_information, withdraw
from services.triage.routing.deadlines import DueAt
from services.triage.routing.ruleset import Ruleset


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


def told(
    state: ReferralState,
    before: Case | None,
    after: Case,
    step: str,
    occurred_at: datetime,
    reassigned_to: Service | None = None,
) -> tuple[list[Sent], int]:
    """The outcome messages for the referrer of a step that took the case from `before` to `after`, and the
    new count of outcomes told. Nothing while the referral (so its partner) is not yet known: `on_referral`
    tells what happened meanwhile once it is. Every step that changes queue items calls this."""
    partner_id = state.partner_id
    if partner_id is None:
        return [], state.outcomes_told
    outcomes = outcomes_for(
        before,
        after,
        partner_id=partner_id,
        step=step,
        occurred_at=occurred_at,
        first_seq=state.outcomes_told + 1,
        reassigned_to=reassigned_to,
    )
    sent = [_sent(step, topics.OUTCOMES, after.referral_id, outcome) for outcome in outcomes]
    return sent, state.outcomes_told + len(outcomes)


def _replay(state: ReferralState, step: str) -> Step:
    return Step(None, state.sent_by(step), redelivered=True)


def on_referral(state: ReferralState | None, referral: Referral) -> Step:
    """Keep the referral and pass it on, keyed by subject, to be decided."""
    step = f"referral:{referral.referral_id}"
    if state is not None and state.referral is not None:
        return _replay(state, step)
    forward = _sent(step, topics.TRIAGE_BY_SUBJECT, referral.subject_key or referral.referral_id, referral)
    if state is not None and state.decisions:  # a decision overtook its redelivered referral: no need to decide
        known = state.model_copy(update={"referral": referral})
        sent, count = (
            told(known, None, state.case, step, referral.accepted_at) if state.case else ([], state.outcomes_told)
        )
        return Step(state.with_step(step, sent, referral=referral, outcomes_told=count), sent)
    base = state or ReferralState()
    return Step(base.with_step(step, [forward], referral=referral), [forward])


def on_decision(state: ReferralState | None, decision: TriageDecision, ruleset: Ruleset | None = None) -> Step:
    """Queue the decision's assignments; audit `triaged` and `queued`. The referrer's updates that arrived
    before the first decision are applied right after it, in the same step (`ruleset` re-decides them)."""
    step = decision.decision_id
    base = state or ReferralState()
    if base.has_decision(decision.decision_id):
        return _replay(base, step)
    case, items = apply_decision(base.case, decision, decision.decided_at)
    events, head = decision_events(base.head, decision, items)
    sent = [_sent(step, topics.AUDIT, decision.referral_id, event) for event in events]
    state = base.with_step(step, sent, case=case, decisions=[*base.decisions, decision], head=head or base.head)
    if ruleset is not None and state.pending_updates:
        pending, state = state.pending_updates, state.model_copy(update={"pending_updates": []})
        for update in pending:
            state, more, _ = _apply_update(state, update, ruleset, step)
            sent.extend(more)
    # Told once for the whole step (the decision and the updates applied with it): one outcome per
    # service and kind, so the step's outcome ids stay distinct.
    assert state.case is not None
    outcomes, count = told(base, base.case, state.case, step, decision.decided_at)
    if outcomes:
        state = state.with_step(step, outcomes, outcomes_told=count)
        sent.extend(outcomes)
    return Step(state, sent, decision=decision)


def on_update(state: ReferralState | None, update: ReferralUpdate, ruleset: Ruleset) -> Step:
    """Apply the referrer's new information (a follow-up decision when it adds a service or raises a
    priority) or withdrawal; audit `information_added` or `withdrawn`. Before the referral's first
    decision the update waits in the state and is applied with that decision."""
    step = f"update:{update.update_id}"
    base = state or ReferralState()
    if base.knows_step(step):
        return _replay(base, step)
    if base.knows_update(update.update_id):  # waiting for the first decision, or applied with it
        return Step(None, [], redelivered=True)
    if base.case is None:
        return Step(base.with_step(step, [], pending_updates=[*base.pending_updates, update]), [])
    new_state, sent, decision = _apply_update(base, update, ruleset, step)
    assert new_state.case is not None
    outcomes, count = told(base, base.case, new_state.case, step, update.received_at)
    if outcomes:
        new_state = new_state.with_step(step, outcomes, outcomes_told=count)
        sent = [*sent, *outcomes]
    return Step(new_state, sent, decision=decision)


def _apply_update(
    state: ReferralState, update: ReferralUpdate, ruleset: Ruleset, step: str
) -> tuple[ReferralState, list[Sent], TriageDecision | None]:
    """The state after one update, the messages it sends under `step`, and its follow-up decision. The
    referrer's outcomes are told by the caller, once per step (`told`)."""
    assert state.case is not None
    updates = [*state.updates, update]
    rid = update.referral_id
    if update.withdrawal is not None:
        case, closed, marked = withdraw(state.case, update.withdrawal, update)
        event, head = withdrawal_event(state.head, update, update.withdrawal.reason.value, closed, marked)
        sent = [_sent(step, topics.AUDIT, rid, event)]
        return state.with_step(step, sent, case=case, head=head, updates=updates), sent, None
    assert update.information is not None
    decision = None
    if state.referral is not None:
        facts = with_information(state.referral, [u.information for u in updates if u.information is not None])
        decision = follow_up_decision(state.case, facts, update, ruleset)
    event, head = information_event(state.head, update, information_fields(update.information), decision)
    sent = [_sent(step, topics.AUDIT, rid, event)]
    case, decisions = state.case, state.decisions
    if decision is not None:
        case, items = apply_decision(case, decision, decision.decided_at)
        events, after = decision_events(head, decision, items)
        head = after or head
        sent += [_sent(step, topics.AUDIT, rid, more) for more in events]
        sent.append(_sent(step, topics.DECISIONS, rid, decision))
        decisions = [*decisions, decision]
    new_state = state.with_step(step, sent, case=case, head=head, decisions=decisions, updates=updates)
    return new_state, sent, decision


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
    if action.action_id not in outcome.case.actions:  # a refusal not kept (UNRECORDED_REFUSALS): no write
        return Step(None, [], outcome=outcome)
    events, head = action_events(state.head, action, outcome)
    sent = [_sent(step, topics.AUDIT, action.referral_id, event) for event in events]
    decisions = list(state.decisions)
    if outcome.follow_up is not None:
        sent.append(_sent(step, topics.DECISIONS, action.referral_id, outcome.follow_up))
        decisions.append(outcome.follow_up)
    outcomes, count = told(state, state.case, outcome.case, step, action.requested_at, action.to)
    sent.extend(outcomes)
    new_state = state.with_step(
        step, sent, case=outcome.case, decisions=decisions, head=head or state.head, outcomes_told=count
    )
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
