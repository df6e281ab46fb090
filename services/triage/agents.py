"""Triage's agents: decide each referral once, apply decisions and officer actions per referral, keep the
audit trail, watch deadlines. Thin shells around the pure cores in `routing.rules` and `cases` (steps, queue,
trail)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import faust
import structlog
from aiokafka.errors import KafkaError

from schemas.action import OfficerAction
from schemas.codec import decode, encode
from schemas.decision import TriageDecision
from schemas.referral import Referral
from services.common import topics
from services.common.confirmed_step import confirmed_step
from services.common.dead_letters import DeadLetters, dead_letter, decode_or_dead_letter
from services.common.logs import get_logger
from services.triage.api.officers import scope_of
from services.triage.cases.queue import OfficerScope
from services.triage.cases.records import SlaCheck, SubjectHistory
from services.triage.cases.referral_state import ReferralState, StoredCase
from services.triage.cases.sla import DeadlineIndex, refresh_gauges
from services.triage.cases.steps import Step, on_action, on_decision, on_referral, on_sla_check
from services.triage.routing.rules import PriorSubjectReferral, decide

if TYPE_CHECKING:
    from services.triage.service import Triage

log = get_logger("sosafe.triage")


def register(triage: Triage) -> None:
    app, metrics = triage.app, triage.metrics
    dead = DeadLetters("triage", triage.dead, triage.audit, metrics.poison)
    case_topics = app.topic(
        topics.ACCEPTED,
        topics.DECISIONS,
        topics.ACTIONS,
        topics.TRIAGE_SLA_CHECKS,
        partitions=triage.settings.topic_partitions,
    )

    deadlines = DeadlineIndex()

    def load(key: bytes) -> ReferralState | None:
        raw = triage.cases.get(key)
        return decode(raw, ReferralState) if raw else None

    def officer_scope(officer_id: str) -> OfficerScope | None:
        officer = next((o for o in triage.access.officers if o.id == officer_id), None)
        if officer is None:
            return None
        return scope_of(officer)

    def step_for(topic: str, value: Any, state: ReferralState | None) -> Step | None:
        if topic == topics.ACCEPTED:
            return on_referral(state, value)
        if topic == topics.DECISIONS:
            return on_decision(state, value)
        if state is None or state.case is None:
            log.warning("message_for_unknown_referral", source_topic=topic)
            return None
        if topic == topics.ACTIONS:
            scope = officer_scope(value.officer_id)
            if scope is None:
                log.warning("action_from_unknown_officer")
                return None
            return on_action(state, value, scope, triage.ruleset.version, triage.deadlines)
        return on_sla_check(state, value)

    async def apply(topic: str, value: Any) -> None:
        """Write the referral's new state, then send the step's messages (re-sent on a redelivery)."""
        key = value.referral_id.encode()
        step = step_for(topic, value, load(key))
        if step is None:
            return
        if step.state is not None:
            triage.cases[key] = encode(step.state)
            if step.state.case is not None:
                deadlines.note(step.state.case)
        for sent in step.sent:
            await senders[sent.topic].send(key=sent.key.encode(), value=sent.value.encode())
        count(step, value)

    def count(step: Step, value: Any) -> None:
        if step.redelivered:
            log.info("message_redelivered", resent=len(step.sent))
        if step.outcome is not None:
            metrics.officer_actions.labels(value.kind.value, step.outcome.status).inc()
            triage.replies.resolve(step.outcome)
            log.info(
                "officer_action_answered",
                kind=value.kind.value,
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

    senders = {
        topics.TRIAGE_BY_SUBJECT: triage.by_subject,
        topics.AUDIT: triage.audit,
        topics.DECISIONS: triage.decisions,
        topics.ESCALATIONS: triage.escalations,
    }
    models: dict[str, type[Any]] = {
        topics.ACCEPTED: Referral,
        topics.DECISIONS: TriageDecision,
        topics.ACTIONS: OfficerAction,
        topics.TRIAGE_SLA_CHECKS: SlaCheck,
    }

    @app.agent(case_topics, name="cases")
    async def cases(stream: faust.StreamT[bytes]) -> None:
        """The single writer of each referral's case: referrals, decisions, actions and SLA checks."""
        async for event in stream.events():
            with confirmed_step(event):
                message = event.message
                structlog.contextvars.bind_contextvars(
                    topic=message.topic, partition=message.partition, offset=message.offset
                )
                value: Any = await decode_or_dead_letter(event, models[message.topic], dead)
                if value is None:
                    continue
                structlog.contextvars.bind_contextvars(referral_id=getattr(value, "referral_id", None))
                try:
                    await apply(message.topic, value)
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
                referral = await decode_or_dead_letter(event, Referral, dead)
                if referral is None:
                    continue
                structlog.contextvars.bind_contextvars(referral_id=referral.referral_id)
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

    @triage.cases.on_recover
    async def index_open_items() -> None:
        """The partitions held have changed: index the open items of the referrals now held, once."""
        deadlines.rebuild(decode(raw, StoredCase).case for raw in triage.cases.values() if raw)
        log.info("open_items_indexed", open_referrals=len(deadlines))

    @app.timer(triage.settings.sla_check_interval_s)  # type: ignore[untyped-decorator]
    async def watch_deadlines() -> None:
        """Asks the case agent to escalate each open item past its deadline; refreshes the queue gauges."""
        now = datetime.now(UTC)
        due = refresh_gauges(metrics, deadlines.open_cases(), now)
        for referral_id in due:
            await triage.sla_checks.send(
                key=referral_id.encode(), value=encode(SlaCheck(referral_id=referral_id, checked_at=now))
            )
