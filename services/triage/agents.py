"""Triage's agents: decide each referral once, apply decisions and officer actions per referral, keep the
audit trail, watch deadlines. Thin shells around the pure cores in rules, queue and trail."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import faust
import structlog
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from schemas.action import OfficerAction
from schemas.audit import AuditEvent
from schemas.codec import decode, encode
from schemas.decision import TriageDecision
from schemas.referral import Referral
from services.common import topics
from services.common.dead_letters import dead_letter
from services.common.logs import get_logger
from services.triage.queue import Case, OfficerScope, apply_action, apply_decision, find_breaches
from services.triage.records import ReferralRecord, SlaCheck, SubjectHistory
from services.triage.rules import PriorSubjectReferral, decide
from services.triage.sla import refresh_gauges
from services.triage.trail import Trail, action_events, decision_events, escalation_event

if TYPE_CHECKING:
    from services.triage.app import Triage

log = get_logger("sosafe.triage")


def register(triage: Triage) -> None:
    app, metrics = triage.app, triage.metrics
    case_topics = app.topic(topics.ACCEPTED, topics.DECISIONS, topics.ACTIONS, topics.TRIAGE_SLA_CHECKS,
                            partitions=triage.settings.topic_partitions)

    def load_case(key: bytes) -> Case | None:
        raw = triage.cases.get(key)
        return decode(raw, Case) if raw else None

    def load_record(key: bytes) -> ReferralRecord | None:
        raw = triage.referrals.get(key)
        return decode(raw, ReferralRecord) if raw else None

    async def publish_audit(key: bytes, events: list[AuditEvent]) -> None:
        for event in events:
            await triage.audit.send(key=key, value=encode(event))

    async def on_referral(referral: Referral) -> None:
        key = referral.referral_id.encode()
        if load_record(key) is not None:
            log.info("referral_redelivered")
            return
        await triage.by_subject.send(key=(referral.subject_key or referral.referral_id).encode(),
                                     value=encode(referral))
        triage.referrals[key] = encode(ReferralRecord(referral=referral))

    async def on_decision(decision: TriageDecision) -> None:
        key = decision.referral_id.encode()
        record, case = load_record(key), load_case(key)
        if record is None:
            metrics.poison.labels("triage", topics.DECISIONS).inc()
            log.error("decision_for_unknown_referral", decision_id=decision.decision_id)
            return
        case, items = apply_decision(case, decision, decision.decided_at)
        if decision.decision_id in {d.decision_id for d in record.decisions}:
            return  # already applied here (a follow-up decision coming back, or a redelivery)
        events, head = decision_events(record.head, decision, items)
        await publish_audit(key, events)
        triage.cases[key] = encode(case)
        triage.referrals[key] = encode(record.model_copy(update={
            "decisions": [*record.decisions, decision], "head": head}))
        for assignment in decision.assignments:
            metrics.decisions.labels(assignment.service.value, assignment.priority.value,
                                     decision.kind.value).inc()
        if decision.kind == "initial":
            metrics.latency.observe(max(0.0, (datetime.now(UTC) - record.referral.received_at).total_seconds()))
        log.info("referral_triaged", decision_id=decision.decision_id, kind=decision.kind.value,
                 services=[a.service.value for a in decision.assignments])

    async def on_action(action: OfficerAction) -> None:
        key = action.referral_id.encode()
        record, case = load_record(key), load_case(key)
        officer = next((o for o in triage.access.officers if o.id == action.officer_id), None)
        if record is None or case is None or officer is None:
            metrics.officer_actions.labels(action.kind.value, "refused").inc()
            log.warning("action_refused", reason="unknown referral or officer", kind=action.kind.value)
            return
        scope = OfficerScope(officer_id=officer.id, services=officer.services, manager=officer.manager)
        outcome = apply_action(case, action, scope, action.requested_at, triage.ruleset.version,
                               triage.deadlines)
        events, head = action_events(record.head, action, outcome)
        await publish_audit(key, events)
        if outcome.follow_up is not None:
            await triage.decisions.send(key=key, value=encode(outcome.follow_up))
        triage.cases[key] = encode(outcome.case)
        decisions = list(record.decisions)
        if outcome.follow_up is not None and outcome.follow_up.decision_id not in {
                d.decision_id for d in decisions}:
            decisions.append(outcome.follow_up)
        triage.referrals[key] = encode(record.model_copy(update={"decisions": decisions, "head": head}))
        metrics.officer_actions.labels(action.kind.value, outcome.status).inc()
        triage.replies.resolve(outcome)
        log.info("officer_action", kind=action.kind.value, outcome=outcome.status, http_status=outcome.http_status)

    async def on_sla_check(check: SlaCheck) -> None:
        key = check.referral_id.encode()
        record, case = load_record(key), load_case(key)
        if record is None or case is None:
            return
        case, escalations = find_breaches(case, check.checked_at)
        if not escalations:
            return
        head = record.head
        for escalation in escalations:
            await triage.escalations.send(key=key, value=encode(escalation))
            event, head = escalation_event(head, escalation)
            await publish_audit(key, [event])
            metrics.escalations.labels(escalation.service.value, escalation.priority.value).inc()
            log.warning("item_escalated", service=escalation.service.value, priority=escalation.priority.value)
        triage.cases[key] = encode(case)
        triage.referrals[key] = encode(record.model_copy(update={"head": head}))

    handlers: dict[str, tuple[type[Any], Callable[[Any], Awaitable[None]]]] = {
        topics.ACCEPTED: (Referral, on_referral),
        topics.DECISIONS: (TriageDecision, on_decision),
        topics.ACTIONS: (OfficerAction, on_action),
        topics.TRIAGE_SLA_CHECKS: (SlaCheck, on_sla_check),
    }

    @app.agent(case_topics, name="cases")
    async def cases(stream: faust.StreamT[bytes]) -> None:
        """The single writer of each referral's case: referrals, decisions, actions and SLA checks."""
        async for event in stream.events():
            message = event.message
            structlog.contextvars.bind_contextvars(topic=message.topic, partition=message.partition,
                                                   offset=message.offset)
            model, handler = handlers[message.topic]
            try:
                value: Any = decode(event.value or b"", model)
            except ValidationError as exc:
                await dead_letter(triage.dead, metrics.poison, "triage", event, "invalid_message", exc.error_count())
                continue
            structlog.contextvars.bind_contextvars(referral_id=getattr(value, "referral_id", None))
            try:
                await handler(value)
            except (KafkaError, asyncio.CancelledError):
                raise  # the broker is the problem, not the message: crash, restart, redeliver
            except Exception as exc:  # a message the core cannot handle must not stop the partition
                log.exception("message_failed", error_type=type(exc).__name__)
                await dead_letter(triage.dead, metrics.poison, "triage", event, "processing_failed")

    @app.agent(triage.by_subject, name="decide")
    async def decide_referrals(stream: faust.StreamT[bytes]) -> None:
        """Decides each referral with what is known of the same subject's earlier referrals."""
        async for event in stream.events():
            try:
                referral = decode(event.value or b"", Referral)
            except ValidationError as exc:
                await dead_letter(triage.dead, metrics.poison, "triage", event, "invalid_message", exc.error_count())
                continue
            structlog.contextvars.bind_contextvars(referral_id=referral.referral_id)
            key = (referral.subject_key or referral.referral_id).encode()
            raw = triage.subject_history.get(key)
            history = decode(raw, SubjectHistory) if raw else SubjectHistory()
            decision = decide(referral, triage.ruleset, referral.accepted_at, history.referrals)
            await triage.decisions.send(key=referral.referral_id.encode(), value=encode(decision))
            if referral.subject_key is not None:
                entry = PriorSubjectReferral(referral_id=referral.referral_id, accepted_at=referral.accepted_at,
                                             concerns=tuple(referral.submission.concerns))
                triage.subject_history[key] = encode(history.with_referral(entry))

    @app.agent(triage.audit, name="audit-trail")
    async def keep_trail(stream: faust.StreamT[bytes]) -> None:
        """Keeps every service's audit events per referral, for `GET /v1/referrals/{id}`."""
        async for event in stream.events():
            try:
                audit_event = decode(event.value or b"", AuditEvent)
            except ValidationError as exc:
                await dead_letter(triage.dead, metrics.poison, "triage", event, "invalid_message", exc.error_count())
                continue
            if audit_event.referral_id is None:
                continue  # a rejection's chain: it stays on the topic, there is no referral to attach it to
            key = audit_event.referral_id.encode()
            raw = triage.trails.get(key)
            trail = decode(raw, Trail) if raw else Trail()
            updated = trail.with_event(audit_event)
            if updated is not trail:
                triage.trails[key] = encode(updated)

    @app.timer(triage.settings.sla_check_interval_s)  # type: ignore[untyped-decorator]
    async def watch_deadlines() -> None:
        """Asks the case agent to escalate each open item past its deadline; refreshes the queue gauges."""
        now = datetime.now(UTC)
        due = refresh_gauges(metrics, (decode(raw, Case) for raw in triage.cases.values() if raw), now)
        for referral_id in due:
            await triage.sla_checks.send(key=referral_id.encode(),
                                         value=encode(SlaCheck(referral_id=referral_id, checked_at=now)))
