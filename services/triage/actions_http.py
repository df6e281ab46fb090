"""Officer actions from HTTP (the JSON API and the console): check, publish to triage.actions, await the outcome."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from schemas.action import ActionKind, OfficerAction
from schemas.codec import encode
from schemas.vocabulary import Service
from services.triage.officers import parse_service
from services.triage.queue import ActionOutcome

if TYPE_CHECKING:
    from services.common.access import Officer
    from services.triage.app import Triage


@dataclass(frozen=True)
class Refusal:
    """Why an action was not applied, as an HTTP status, a snake_case code and plain English."""

    status: int
    code: str
    detail: str


def check_target(triage: Triage, officer: Officer, service: str, referral_id: str,
                 action: str) -> Service | Refusal:
    """The queue to act on, or why the request cannot name an action there."""
    wanted = parse_service(service)
    if wanted is None or action not in ActionKind.__members__:
        return Refusal(404, "unknown_action", "There is no such queue or action.")
    if wanted not in officer.scope:
        return Refusal(403, "out_of_scope", "This queue is not in your scope.")
    if not triage.cases.get(referral_id.encode()):
        return Refusal(404, "unknown_referral", "No referral with this id is queued here.")
    return wanted


def command_for(officer: Officer, service: Service, referral_id: str, action: str, reason: Any,
                to: Any) -> OfficerAction:
    """The action message (raises pydantic's ValidationError when a field is not valid)."""
    return OfficerAction(
        action_id=str(uuid.uuid4()), referral_id=referral_id, service=service, kind=ActionKind(action),
        officer_id=officer.id, requested_at=datetime.now(UTC), reason=reason,
        to=to)


async def submit(triage: Triage, command: OfficerAction) -> ActionOutcome | Refusal:
    """Publish the action keyed by referral and wait for the case agent's outcome (or time out: 504)."""
    reply = triage.replies.expect(command.action_id)
    try:
        await triage.actions.send(key=command.referral_id.encode(), value=encode(command))
        return await asyncio.wait_for(reply, triage.settings.action_reply_timeout_s)
    except TimeoutError:
        return Refusal(504, "action_pending",
                       "The action was recorded but not yet applied; refresh to see its result.")
    finally:
        triage.replies.forget(command.action_id)
