"""Intake's HTTP views for what a referrer adds after sending a referral: new information
(`POST /v1/referrals/{id}/updates`) and a withdrawal (`POST /v1/referrals/{id}/withdraw`).

Only the partner that referred it may do either; any other referral id is 404, whoever holds it. Intake
answers 202 once the broker has acknowledged the `ReferralUpdate` on `referrals.updates`; triage applies it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from faust.web import Request, Response, View

from schemas.codec import decode, encode
from services.common import topics
from services.common.access import Partner
from services.common.logs import get_logger
from services.intake.admission import SeenRecord
from services.intake.http_gate import answer, authorised_partner, broker_unavailable, json_body
from services.intake.publisher import SubmissionNotPublished
from services.intake.updates import BODY_MODELS, UpdateInvalid, UpdateKind, owned_by, read_body, referral_update

if TYPE_CHECKING:
    from services.intake.service import Intake

log = get_logger("sosafe.intake.updates")

NOT_FOUND_DETAIL = "No referral with this id was received from your organisation."
REFUSED = "update_refused"


async def post_update(intake: Intake, view: View, request: Request, referral_id: str, kind: str) -> Response:
    """`POST /v1/referrals/{id}/updates|withdraw`: the referring partner's new information or withdrawal,
    answered 202 once the broker holds it on `referrals.updates`."""
    partner = authorised_partner(intake, view, request, event=REFUSED)
    if not isinstance(partner, Partner):
        return partner
    if kind not in UpdateKind.__members__:
        return answer(intake, view, 404, "not_found", "No such resource: use /updates or /withdraw.", event=REFUSED)
    update_kind = UpdateKind(kind)
    stored = intake.seen.get(referral_id.encode())
    if not owned_by(decode(stored, SeenRecord) if stored else None, partner.id):
        intake.metrics.updates.labels(update_kind.value, "not_found").inc()
        return answer(intake, view, 404, "unknown_referral", NOT_FOUND_DETAIL, event=REFUSED)
    raw = await json_body(intake, view, request, event=REFUSED)
    if not isinstance(raw, bytes):
        return raw
    received_at = datetime.now(UTC)
    try:
        body = read_body(raw, BODY_MODELS[update_kind])
    except UpdateInvalid as exc:
        intake.metrics.updates.labels(update_kind.value, "invalid").inc()
        detail = f"The body does not meet the {kind} schema."
        return answer(intake, view, 422, exc.reason, detail, exc.errors, event=REFUSED)
    update = referral_update(referral_id, partner.id, received_at, body)
    try:
        await intake.publisher.publish(topics.UPDATES, referral_id.encode(), encode(update))
    except SubmissionNotPublished as exc:
        detail = "The update could not be recorded in time; send it again later."
        return broker_unavailable(intake, view, exc, detail, event=REFUSED)
    intake.metrics.updates.labels(update_kind.value, "published").inc()
    intake.metrics.http_responses.labels("202").inc()
    log.info("update_received", kind=update_kind.value, referral_id=referral_id, update_id=update.update_id)
    return view.json({"referral_id": referral_id, "update_id": update.update_id, "status": "received"}, status=202)


def register(intake: Intake) -> None:
    """Bind `post_update` to its route."""

    @intake.app.page("/v1/referrals/{referral_id}/{kind}")
    class ReferralUpdates(View):
        async def post(self, request: Request, referral_id: str, kind: str) -> Response:
            return await post_update(intake, self, request, referral_id, kind)
