"""Officer actions from HTTP (the JSON API and the console): check, publish to triage.actions, await the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from schemas.action import ActionKind, OfficerAction
from schemas.codec import encode
from schemas.vocabulary import Service
from services.triage.api.officers import parse_service
from services.triage.cases.case import Refusal
from services.triage.cases.queue import ActionOutcome

if TYPE_CHECKING:
    from services.common.access import Officer
    from services.triage.service import Triage


REPLY_POLL_S = 0.05


REFUSAL_STATUS: Final[Mapping[Refusal, int]] = {
    Refusal.officer_mismatch: 403,
    Refusal.out_of_scope: 403,
    Refusal.item_not_found: 404,
    Refusal.item_final: 409,
    Refusal.claimed_by_another: 409,
    Refusal.reason_required: 422,
    Refusal.target_required: 422,
    Refusal.target_same_service: 422,
}
"""The one place a refusal of the queue core becomes an HTTP status (the JSON API and the console)."""


@dataclass(frozen=True)
class Rejection:
    """Why an action request was not applied, as an HTTP status, a snake_case code and plain English."""

    status: int
    code: str
    detail: str

    retry_after: int | None = None
    """Seconds to wait before asking again (a 429's `Retry-After`)."""

    @classmethod
    def of(cls, refusal: Refusal, detail: str | None) -> Rejection:
        """The answer to an action the queue core refused."""
        return cls(REFUSAL_STATUS[refusal], refusal.value, detail or "The action was refused.")

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


NOT_QUEUED_HERE: Final = Rejection(404, "unknown_referral", "No referral with this id is queued here.")
"""The one answer to a referral id that is unknown, outside the caller's scope, or has no item in the queue
named: the same status and body for each, so the answer never tells whether a referral exists."""


def throttle(triage: Triage, officer: Officer, now: float | None = None) -> Rejection | None:
    """429 when the officer is over `SOSAFE_OFFICER_ACTIONS_PER_MINUTE` on this replica, else None."""
    limit = triage.settings.officer_actions_per_minute
    if triage.action_limiter.allow(officer.id, limit, time.monotonic() if now is None else now):
        return None
    return Rejection(
        429, "rate_limited", "Too many actions; wait a moment and try again.", triage.action_limiter.retry_after(limit)
    )


def answer(outcome: ActionOutcome) -> ActionOutcome | Rejection:
    """An applied outcome as it is; a refused one as the HTTP answer to it."""
    return outcome if outcome.refusal is None else Rejection.of(outcome.refusal, outcome.detail)


async def check_target(
    triage: Triage, officer: Officer, service: str, referral_id: str, action: str
) -> Service | Rejection:
    """The queue to act on, or why the request cannot name an action there."""
    wanted = parse_service(service)
    if wanted is None or action not in ActionKind.__members__:
        return Rejection(404, "unknown_action", "There is no such queue or action.")
    if wanted not in officer.scope:
        return Rejection.of(Refusal.out_of_scope, "This queue is not in your scope.")
    case = await triage.view.case(referral_id)
    if case is None or wanted not in case.items:  # no action is published, so nothing is stored against it
        return NOT_QUEUED_HERE
    return wanted


def command_for(
    officer: Officer, service: Service, referral_id: str, action: str, reason: Any, to: Any
) -> OfficerAction:
    """The action message (raises pydantic's ValidationError when a field is not valid)."""
    return OfficerAction(
        action_id=str(uuid.uuid4()),
        referral_id=referral_id,
        service=service,
        kind=ActionKind(action),
        officer_id=officer.id,
        requested_at=datetime.now(UTC),
        reason=reason,
        to=to,
    )


async def recorded_outcome(triage: Triage, command: OfficerAction) -> ActionOutcome | None:
    """The outcome the case agent recorded for this action, read from the read model (any replica)."""
    case = await triage.view.case(command.referral_id)
    record = case.actions.get(command.action_id) if case else None
    if case is None or record is None:
        return None
    return ActionOutcome(
        action_id=command.action_id,
        status=record.status,
        refusal=record.refusal,
        detail=record.detail,
        case=case,
        item=case.items.get(command.service),
        follow_up=record.follow_up,
    )


async def submit(triage: Triage, command: OfficerAction) -> ActionOutcome | Rejection:
    """Publish the action keyed by referral and wait for its outcome: applied, or refused (the queue core's
    refusal as an HTTP answer), or not known in time (504).

    The replica that owns the referral's partition applies it; when that is this replica the case agent
    hands the outcome over directly, otherwise it shows up in the read model. Either way the answer waits
    (briefly) until this replica's read model shows it, so the officer's next page reads their own write.
    """
    loop = asyncio.get_running_loop()
    reply = triage.replies.expect(command.action_id)
    deadline = loop.time() + triage.settings.action_reply_timeout_s
    outcome: ActionOutcome | None = None
    try:
        await triage.actions.send(key=command.referral_id.encode(), value=encode(command))
        while True:
            if outcome is None:
                with contextlib.suppress(TimeoutError):
                    outcome = await asyncio.wait_for(asyncio.shield(reply), REPLY_POLL_S)
            else:
                await asyncio.sleep(REPLY_POLL_S / 5)
            if outcome is not None and outcome.status == "refused":  # changed nothing: no read to wait for
                return answer(outcome)
            recorded = await recorded_outcome(triage, command)
            if recorded is not None:
                return answer(outcome or recorded)
            if loop.time() >= deadline:
                return (
                    answer(outcome)
                    if outcome
                    else Rejection(
                        504, "action_pending", "The action was recorded but not yet applied; refresh to see its result."
                    )
                )
    finally:
        triage.replies.forget(command.action_id)
