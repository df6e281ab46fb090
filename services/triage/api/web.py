"""Triage's HTTP API: queues, referrals and officer actions, scope enforced on each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from faust.web import Request, Response, View
from pydantic import ValidationError

from services.common.logs import get_logger
from services.common.validation_errors import field_errors
from services.common.web_errors import error_response
from services.triage.api.actions import NOT_QUEUED_HERE, Rejection, check_target, command_for, submit, throttle
from services.triage.api.officers import (
    decisions_in_scope,
    events_in_scope,
    items_in_scope,
    may_see,
    officer_for,
    parse_service,
)
from services.triage.api.openapi import ITEM_FIELDS, openapi_document
from services.triage.api.partners import (
    CHANGES_LIMIT,
    decode_cursor,
    encode_cursor,
    outcome_json,
    partner_for,
    status_json,
)
from services.triage.cases.case import QueueItem

if TYPE_CHECKING:
    from services.common.access import Officer, Partner
    from services.triage.service import Triage

log = get_logger("sosafe.triage.web")


def item_json(item: QueueItem) -> dict[str, Any]:
    return item.model_dump(mode="json", include=set(ITEM_FIELDS))


def rejected(view: View, rejection: Rejection) -> Response:
    return error_response(view, rejection.status, rejection.code, rejection.detail, headers=rejection.headers)


def unauthorised(view: View) -> Response:
    return error_response(
        view,
        401,
        "unauthorised",
        "A valid officer bearer token is required.",
        headers={"WWW-Authenticate": "Bearer"},
    )


def authenticate(triage: Triage, request: Request) -> Officer | None:
    return officer_for(triage.tokens, request.headers.get("Authorization"))


def authenticate_partner(triage: Triage, request: Request) -> Partner | None:
    return partner_for(triage.tokens, request.headers.get("Authorization"))


async def partner_status(triage: Triage, view: View, partner: Partner, referral_id: str) -> Response:
    """A partner's own referral, or the same 404 as an unknown one: another's is not even said to exist."""
    found = await triage.view.partner_referral(partner.id, referral_id)
    if found is None:
        return error_response(view, 404, "unknown_referral", "No referral with this id is queued here.")
    return view.json(status_json(*found))


async def referral_changes(triage: Triage, view: View, request: Request) -> Response:
    """`GET /v1/referrals?updated_since=`: a partner's outcomes after its cursor, in order."""
    partner = authenticate_partner(triage, request)
    if partner is None:
        if authenticate(triage, request) is not None:
            return error_response(view, 403, "partners_only", "Only a referring partner polls its referrals.")
        return unauthorised(view)
    after = decode_cursor(request.query.get("updated_since"))
    if after is None:
        return error_response(view, 422, "invalid_cursor", "updated_since must be a cursor this API gave.")
    changes = await triage.view.partner_changes(partner.id, after, CHANGES_LIMIT)
    last = changes[-1][0] if changes else after
    return view.json(
        {
            "changes": [outcome_json(o) for _, o in changes],
            "cursor": encode_cursor(last),
            "more": len(changes) == CHANGES_LIMIT,
        }
    )


async def queues(triage: Triage, view: View, request: Request) -> Response:
    """`GET /v1/queues`: open and overdue counts of each queue in the officer's scope."""
    officer = authenticate(triage, request)
    if officer is None:
        return unauthorised(view)
    counts = await triage.view.open_and_overdue(sorted(officer.scope), datetime.now(UTC))
    return view.json([{"service": s.value, "open": o, "overdue": d} for s, (o, d) in counts.items()])


async def queue(triage: Triage, view: View, request: Request, service: str) -> Response:
    """`GET /v1/queues/{service}[?state=open|all]`: one queue's items, if it is in the officer's scope."""
    officer = authenticate(triage, request)
    if officer is None:
        return unauthorised(view)
    wanted = parse_service(service)
    if wanted is None:
        return error_response(view, 404, "unknown_service", "There is no such queue.")
    if wanted not in officer.scope:
        return error_response(view, 403, "out_of_scope", "This queue is not in your scope.")
    state = request.query.get("state", "open")
    if state not in ("open", "all"):
        return error_response(view, 422, "invalid_state", "state must be open or all.")
    items = await triage.view.queue(wanted, state)  # type: ignore[arg-type]
    return view.json([item_json(item) for item in items])


async def referral(triage: Triage, view: View, request: Request, referral_id: str) -> Response:
    """`GET /v1/referrals/{id}`: to an officer, the referral as far as their scope goes; to the referring
    partner, its status; to anyone else, the same 404 as an unknown id."""
    officer = authenticate(triage, request)
    if officer is None:
        partner = authenticate_partner(triage, request)
        if partner is not None:
            return await partner_status(triage, view, partner, referral_id)
        return unauthorised(view)
    case, record = await triage.view.referral(referral_id)
    if case is None or record is None or not may_see(officer, case):  # one answer: no existence oracle
        return rejected(view, NOT_QUEUED_HERE)
    trail = await triage.view.trail(referral_id)
    return view.json(
        {
            "referral": record.referral.model_dump(mode="json"),
            "decisions": [d.model_dump(mode="json") for d in decisions_in_scope(officer, record.decisions)],
            "items": [item_json(i) for i in items_in_scope(officer, case.items.values())],
            "audit": [e.model_dump(mode="json") for e in events_in_scope(officer, trail.events)],
        }
    )


async def item_action(
    triage: Triage, view: View, request: Request, service: str, referral_id: str, action: str
) -> Response:
    """`POST /v1/queues/{service}/items/{id}/{action}`: an officer's action, answered with its outcome."""
    officer = authenticate(triage, request)
    if officer is None:
        return unauthorised(view)
    return await act(triage, view, officer, service, referral_id, action, await request.read())


async def act(
    triage: Triage, view: View, officer: Officer, service: str, referral_id: str, action: str, body: bytes
) -> Response:
    limited = throttle(triage, officer)
    if limited is not None:
        return rejected(view, limited)
    target = await check_target(triage, officer, service, referral_id, action)
    if isinstance(target, Rejection):
        return rejected(view, target)
    try:
        fields = orjson.loads(body) if body.strip() else {}
        if not isinstance(fields, dict) or set(fields) - {"reason", "to"}:
            return error_response(view, 422, "invalid_body", 'The body may hold only "reason" and "to".')
        command = command_for(officer, target, referral_id, action, fields.get("reason"), fields.get("to"))
    except orjson.JSONDecodeError:
        return error_response(view, 422, "invalid_json", "The body is not valid JSON.")
    except ValidationError as exc:
        return error_response(view, 422, "invalid_body", "The action is not valid.", field_errors(exc))
    outcome = await submit(triage, command)
    if isinstance(outcome, Rejection):
        return rejected(view, outcome)
    body_out: dict[str, Any] = item_json(outcome.item) if outcome.item else {}
    if outcome.follow_up is not None:
        body_out["follow_up_decision_id"] = outcome.follow_up.decision_id
        body_out["follow_up_services"] = [a.service.value for a in outcome.follow_up.assignments]
    return view.json(body_out)


def register(triage: Triage) -> None:
    """Bind the handlers above to triage's routes."""
    app = triage.app

    @app.page("/v1/referrals")
    async def changes_page(self: View, request: Request) -> Response:
        return await referral_changes(triage, self, request)

    @app.page("/v1/openapi.json")
    async def openapi_page(self: View, request: Request) -> Response:
        return self.json(openapi_document())

    @app.page("/v1/queues")
    async def queues_page(self: View, request: Request) -> Response:
        return await queues(triage, self, request)

    @app.page("/v1/queues/{service}")
    async def queue_page(self: View, request: Request, service: str) -> Response:
        return await queue(triage, self, request, service)

    @app.page("/v1/referrals/{referral_id}")
    async def referral_page(self: View, request: Request, referral_id: str) -> Response:
        return await referral(triage, self, request, referral_id)

    @app.page("/v1/queues/{service}/items/{referral_id}/{action}")
    class ItemAction(View):
        async def post(self, request: Request, service: str, referral_id: str, action: str) -> Response:
            return await item_action(triage, self, request, service, referral_id, action)
