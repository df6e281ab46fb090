"""Officer authentication and scope for triage's HTTP views and console."""

from __future__ import annotations

from schemas.vocabulary import Service
from services.common.access import Officer, Registry, bearer_token
from services.triage.queue import Case, OfficerScope


def officer_for(tokens: Registry, authorization: str | None) -> Officer | None:
    token = bearer_token(authorization)
    return tokens.officer(token) if token else None


def scope_of(officer: Officer) -> OfficerScope:
    return OfficerScope(officer_id=officer.id, services=officer.services, manager=officer.manager)


def may_see(officer: Officer, case: Case) -> bool:
    """An officer sees a referral when one of its queue items is in their scope; a manager sees all."""
    return officer.manager or any(service in officer.scope for service in case.items)


def parse_service(value: str) -> Service | None:
    try:
        return Service(value)
    except ValueError:
        return None
