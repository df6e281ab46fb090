"""Triage's agents: decide each referral once, apply decisions and officer actions per referral, keep the
audit trail, watch deadlines. Thin shells around the pure cores in `routing.rules` and `cases` (steps, queue,
trail).

Each handler is a module-level function of the decoded message and the `Triage` service object
(`decide_referral`, `apply_to_case`, `request_deadline_checks`); `register` only binds them to the topics,
decodes by the topic registry (`services.common.topic_models`, plus triage's own SLA-check topic) and
dispatches on the model's type.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

import faust
import structlog
from aiokafka.errors import KafkaError
from pydantic import BaseModel

from schemas.action import OfficerAction
from schemas.audit import AuditEvent
from schemas.codec import decode, encode
from schemas.decision import TriageDecision
from schemas.referral import Referral
from schemas.update import ReferralUpdate
from services.common import topics
from services.common.confirmed_step import confirmed_step
from services.common.dead_letters import DeadLetters, dead_letter, decode_or_dead_letter
from services.common.logs import get_logger
from services.common.topic_models import MODELS
from services.common.worker_exit import end_worker
from services.triage.api.officers import scope_of
from services.triage.cases.queue import OfficerScope
from services.triage.cases.records import SlaCheck, SubjectHistory
from services.triage.cases.referral_state import ReferralState, StoredCase
from services.triage.cases.ruleset_live import announcement, file_sha256, ruleset_chain
from services.triage.cases.sla import refresh_gauges
from services.triage.cases.steps import Step, on_action, on_decision, on_referral, on_sla_check, on_update
from services.triage.routing.rules import PriorSubjectReferral, decide

if TYPE_CHECKING:
    from services.triage.service import Triage

log = get_logger("sosafe.triage")

TRIAGE_MODELS: Final[Mapping[str, type[BaseModel]]] = MappingProxyType({**MODELS, topics.TRIAGE_SLA_CHECKS: SlaCheck})
"""The registry with triage's own internal topic: the SLA timer's checks."""

CaseMessage = Referral | TriageDecision | OfficerAction | SlaCheck | ReferralUpdate
"""What the case agent applies to a referral's state."""


async def decide_referral(referral: Referral, triage: Triage) -> None:
    """Decides a referral with what is known of the same subject's earlier referrals, then remembers it."""
    key = (referral.subject_key or referral.referral_id).encode()
    raw = triage.subject_history.get(key)
    history = decode(raw, SubjectHistory) if raw else SubjectHistory()
    decision = decide(referral, triage.ruleset, referral.accepted_at, history.referrals)
    await triage.decisions.send(key=referral.referral_id.encode(), value=encode(decision))
    if referral.subject_key is not None:
        entry = PriorSubjectReferral(
            referral_id=referral.referral_id,
            accepted_at=referral.accepted_at,
            concerns=tuple(referral.submission.concerns),
        )
        triage.subject_history[key] = encode(history.with_referral(entry))


async def apply_to_case(message: CaseMessage, triage: Triage) -> None:
    """Write the referral's new state, then send the step's messages (re-sent on a redelivery)."""
    key = message.referral_id.encode()
    raw = triage.cases.get(key)
    step = step_for(message, decode(raw, ReferralState) if raw else None, triage)
    if step is None:
        return
    if step.state is not None:
        triage.cases[key] = encode(step.state)
        if step.state.case is not None:
            triage.open_items.note(step.state.case)
    senders = {
        topics.TRIAGE_BY_SUBJECT: triage.by_subject,
        topics.AUDIT: triage.audit,
        topics.DECISIONS: triage.decisions,
        topics.ESCALATIONS: triage.escalations,
        topics.OUTCOMES: triage.outcomes,
    }
    for sent in step.sent:
        await senders[sent.topic].send(key=sent.key.encode(), value=sent.value.encode())
    count(step, message if isinstance(message, OfficerAction) else None, triage)


def step_for(message: CaseMessage, state: ReferralState | None, triage: Triage) -> Step | None:
    """The pure step (`cases.steps`) for the message's type; None for what cannot apply (logged)."""
    match message:
        case Referral():
            return on_referral(state, message)
        case TriageDecision():
            return on_decision(state, message, triage.ruleset)
        case ReferralUpdate():
            if state is None or state.referral is None:  # intake admitted it: its referral is on the way
                log.info("update_before_referral", update_id=message.update_id)
            return on_update(state, message, triage.ruleset)
    if state is None or state.case is None:
        log.warning("message_for_unknown_referral", source_topic=topic_of(message))
        return None
    match message:
        case OfficerAction():
            scope = officer_scope(triage, message.officer_id)
            if scope is None:
                log.warning("action_from_unknown_officer")
                return None
            return on_action(state, message, scope, triage.ruleset.version, triage.deadlines)
        case SlaCheck():
            return on_sla_check(state, message)


def topic_of(message: OfficerAction | SlaCheck) -> str:
    return topics.ACTIONS if isinstance(message, OfficerAction) else topics.TRIAGE_SLA_CHECKS


def officer_scope(triage: Triage, officer_id: str) -> OfficerScope | None:
    officer = next((o for o in triage.access.officers if o.id == officer_id), None)
    if officer is None:
        return None
    return scope_of(officer)


def count(step: Step, action: OfficerAction | None, triage: Triage) -> None:
    """Metrics and logs of an applied step; answers the HTTP request waiting for an action's outcome."""
    metrics = triage.metrics
    if step.redelivered:
        log.info("message_redelivered", resent=len(step.sent))
    if step.outcome is not None and action is not None:
        metrics.officer_actions.labels(action.kind.value, step.outcome.status).inc()
        triage.replies.resolve(step.outcome)
        log.info(
            "officer_action_answered",
            kind=action.kind.value,
            outcome=step.outcome.status,
            error=step.outcome.error,
            redelivered=step.redelivered,
        )
    if step.decision is not None:
        decision = step.decision
        for assignment in decision.assignments:
            metrics.decisions.labels(assignment.service.value, assignment.priority.value, decision.kind.value).inc()
        if decision.kind == "initial":
            metrics.latency.observe(max(0.0, (datetime.now(UTC) - decision.decided_at).total_seconds()))
        log.info(
            "referral_triaged",
            decision_id=decision.decision_id,
            kind=decision.kind.value,
            services=[a.service.value for a in decision.assignments],
        )
    for escalation in step.escalations:
        metrics.escalations.labels(escalation.service.value, escalation.priority.value).inc()
        log.warning("item_escalated", service=escalation.service.value, priority=escalation.priority.value)


async def request_deadline_checks(triage: Triage, now: datetime) -> None:
    """Asks the case agent to escalate each open item past its deadline; refreshes the queue gauges."""
    due = refresh_gauges(triage.metrics, triage.open_items.open_cases(), now)
    for referral_id in due:
        await triage.sla_checks.send(
            key=referral_id.encode(), value=encode(SlaCheck(referral_id=referral_id, checked_at=now))
        )


async def announce_ruleset(triage: Triage, now: datetime) -> AuditEvent | None:
    """Audit the ruleset going live (`cases/ruleset_live.py`) unless the read model, caught up, shows this
    version's chain already ends with this file. The send is awaited: a failed one ends the worker (the
    confirmed producer), and the next start announces it again."""
    chain = await triage.view.ruleset_chain(ruleset_chain(triage.ruleset.version))
    event = announcement(chain, triage.ruleset, file_sha256(triage.settings.ruleset_file), now)
    if event is None:
        log.info("ruleset_already_live", ruleset_version=triage.ruleset.version, seq=chain[-1].seq)
        return None
    sent = await triage.audit.send(key=event.chain.encode(), value=encode(event))
    await sent
    log.info("ruleset_live", ruleset_version=triage.ruleset.version, seq=event.seq)
    return event


def index_open_items(triage: Triage) -> None:
    """The partitions held have changed: index the open items of the referrals now held, once."""
    triage.open_items.rebuild(decode(raw, StoredCase).case for raw in triage.cases.values() if raw)
    log.info("open_items_indexed", open_referrals=len(triage.open_items))


async def handle(message: BaseModel, triage: Triage) -> None:
    """Dispatch a decoded message to its handler by type."""
    match message:
        case Referral() | TriageDecision() | OfficerAction() | SlaCheck() | ReferralUpdate():
            await apply_to_case(message, triage)
        case _:  # the registry and the agent's topics disagree: a bug, dead-lettered by the case agent
            raise TypeError(f"the case agent has no handler for {type(message).__name__}")


def register(triage: Triage) -> None:
    """Bind the handlers: the case agent, the decide agent, the recovery hook and the deadline timer."""
    app = triage.app
    dead = DeadLetters("triage", triage.dead, triage.audit, triage.metrics.poison)
    case_topics = app.topic(
        topics.ACCEPTED,
        topics.UPDATES,
        topics.DECISIONS,
        topics.ACTIONS,
        topics.TRIAGE_SLA_CHECKS,
        partitions=triage.settings.topic_partitions,
    )

    @app.agent(case_topics, name="cases")
    async def cases(stream: faust.StreamT[bytes]) -> None:
        """The single writer of each referral's case: referrals, updates, decisions, actions and SLA checks."""
        async for event in stream.events():
            with confirmed_step(event):
                message = event.message
                structlog.contextvars.bind_contextvars(
                    topic=message.topic, partition=message.partition, offset=message.offset
                )
                value = await decode_or_dead_letter(event, dead, TRIAGE_MODELS)
                if value is None:
                    continue
                structlog.contextvars.bind_contextvars(referral_id=getattr(value, "referral_id", None))
                try:
                    await handle(value, triage)
                except (KafkaError, asyncio.CancelledError):
                    raise  # the broker is the problem, not the message: the worker ends and the message comes again
                except Exception as exc:  # a message the core cannot handle must not stop the partition
                    log.exception("message_failed", error_type=type(exc).__name__)
                    await dead_letter(dead, event, "processing_failed")

    @app.agent(triage.by_subject, name="decide")
    async def decide_referrals(stream: faust.StreamT[bytes]) -> None:
        """Decides each referral with what is known of the same subject's earlier referrals."""
        async for event in stream.events():
            with confirmed_step(event):
                match await decode_or_dead_letter(event, dead):
                    case Referral() as referral:
                        structlog.contextvars.bind_contextvars(referral_id=referral.referral_id)
                        await decide_referral(referral, triage)
                    case None:
                        pass
                    case other:  # the registry says otherwise: a bug, so the worker ends (confirmed_step)
                        raise TypeError(f"the decide agent has no handler for {type(other).__name__}")

    @triage.cases.on_recover
    async def reindex_open_items() -> None:
        index_open_items(triage)

    @app.task  # type: ignore[untyped-decorator]
    async def ruleset_live() -> None:
        """Once the read model has caught up (so it holds every earlier announcement), announce the ruleset."""
        await triage.view.caught_up.wait()
        try:
            await announce_ruleset(triage, datetime.now(UTC))
        except Exception as exc:  # never left unannounced in silence: the restart tries again
            end_worker("ruleset_live_failed", error_type=type(exc).__name__)

    @app.timer(triage.settings.sla_check_interval_s)  # type: ignore[untyped-decorator]
    async def watch_deadlines() -> None:
        await request_deadline_checks(triage, datetime.now(UTC))
