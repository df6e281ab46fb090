"""Officer authentication and scope for triage's HTTP views and console."""

from __future__ import annotations

from collections.abc import Iterable

from schemas.audit import AuditEvent
from schemas.audit_details import ServiceDetails, details_of
from schemas.decision import TriageDecision
from schemas.vocabulary import Service
from services.common.access import Officer, Registry, bearer_token
from services.triage.cases.case import Case, QueueItem
from services.triage.cases.queue import OfficerScope


def officer_for(tokens: Registry, authorization: str | None) -> Officer | None:
    token = bearer_token(authorization)
    return tokens.officer(token) if token else None


def scope_of(officer: Officer) -> OfficerScope:
    return OfficerScope(officer_id=officer.id, services=officer.services, manager=officer.manager)


def may_see(officer: Officer, case: Case) -> bool:
    """An officer sees a referral when one of its queue items is in their scope; a manager sees all."""
    return officer.manager or any(service in officer.scope for service in case.items)


def covers(officer: Officer, service: Service | str) -> bool:
    """Whether `service` is in the officer's scope (every service is in a manager's)."""
    return service in officer.scope


def items_in_scope(officer: Officer, items: Iterable[QueueItem]) -> list[QueueItem]:
    """The queue items of the officer's services: another service's item is not theirs to see."""
    return [item for item in items if covers(officer, item.service)]


def decisions_in_scope(officer: Officer, decisions: Iterable[TriageDecision]) -> list[TriageDecision]:
    """Each decision with only the assignments to the officer's services; one with none of them is left out."""
    shown = []
    for decision in decisions:
        mine = [a for a in decision.assignments if covers(officer, a.service)]
        if mine:
            shown.append(
                decision
                if len(mine) == len(decision.assignments)
                else decision.model_copy(update={"assignments": mine})
            )
    return shown


def events_in_scope(officer: Officer, events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """The audit events about the referral as a whole or about one of the officer's services, unaltered
    (an event is hashed: it is shown whole or not at all)."""
    return [event for event in events if _may_see_event(officer, event)]


def _may_see_event(officer: Officer, event: AuditEvent) -> bool:
    details = details_of(event)
    if isinstance(details, ServiceDetails):
        return covers(officer, details.service)
    # Details that fit no model of their action might be about any service: only a manager sees them.
    return details is not None or officer.manager


def parse_service(value: str) -> Service | None:
    try:
        return Service(value)
    except ValueError:
        return None
