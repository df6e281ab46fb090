"""Intake's HTTP views for what a referrer adds after sending a referral: new information
(`POST /v1/referrals/{id}/updates`) and a withdrawal (`POST /v1/referrals/{id}/withdraw`).

Only the partner that referred it may do either; any other referral id is 404, whoever holds it. Intake
answers 202 once the broker has acknowledged the `ReferralUpdate` on `referrals.updates`; triage applies it.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from faust.web import Request, Response, View

from schemas.codec import decode, encode
from schemas.rejection import FieldError
from schemas.submission import MAX_BODY_BYTES
from services.common import topics
from services.common.access import bearer_token
from services.common.logs import get_logger
from services.common.web_errors import error_response
from services.intake.admission import SeenRecord
from services.intake.publisher import SubmissionNotPublished
from services.intake.updates import BODY_MODELS, UpdateInvalid, UpdateKind, owned_by, read_body, referral_update

if TYPE_CHECKING:
    from services.intake.service import Intake

log = get_logger("sosafe.intake.updates")

BODY_READ_TIMEOUT_S = 10.0
BROKER_RETRY_AFTER_S = 5
NOT_FOUND_DETAIL = "No referral with this id was received from your organisation."


def register(intake: Intake) -> None:
    metrics = intake.metrics

    def answer(
        view: View,
        status: int,
        code: str,
        detail: str,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        metrics.http_responses.labels(str(status)).inc()
        log.info("update_refused", status=status, error=code)
        return error_response(view, status, code, detail, errors or [], headers)

    @intake.app.page("/v1/referrals/{referral_id}/{kind}")
    class ReferralUpdates(View):
        async def post(self, request: Request, referral_id: str, kind: str) -> Response:
            partner = intake.tokens.partner(bearer_token(request.headers.get("Authorization")) or "")
            if partner is None:
                return answer(
                    self,
                    401,
                    "unauthorised",
                    "A valid partner bearer token is required.",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            if not intake.rate_limiter.allow(partner.id, partner.rate_limit_per_minute, time.monotonic()):
                retry = str(intake.rate_limiter.retry_after(partner.rate_limit_per_minute))
                return answer(
                    self, 429, "rate_limited", "Too many requests; retry later.", headers={"Retry-After": retry}
                )
            if kind not in UpdateKind.__members__:
                return answer(self, 404, "not_found", "No such resource: use /updates or /withdraw.")
            update_kind = UpdateKind(kind)
            stored = intake.seen.get(referral_id.encode())
            if not owned_by(decode(stored, SeenRecord) if stored else None, partner.id):
                metrics.updates.labels(update_kind.value, "not_found").inc()
                return answer(self, 404, "unknown_referral", NOT_FOUND_DETAIL)
            declared = request.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                return answer(self, 413, "too_large", f"The body is over {MAX_BODY_BYTES} bytes.")
            if request.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
                return answer(self, 415, "unsupported_media_type", "Send the body as application/json.")
            try:
                raw = await asyncio.wait_for(request.read(), BODY_READ_TIMEOUT_S)
            except TimeoutError:
                return answer(
                    self, 408, "body_timeout", f"The body did not arrive within {BODY_READ_TIMEOUT_S:.0f} seconds."
                )
            except Exception:  # aiohttp raises HTTPRequestEntityTooLarge past client_max_size
                return answer(self, 413, "too_large", f"The body is over {MAX_BODY_BYTES} bytes.")
            if len(raw) > MAX_BODY_BYTES:
                return answer(self, 413, "too_large", f"The body is over {MAX_BODY_BYTES} bytes.")
            received_at = datetime.now(UTC)
            try:
                body = read_body(raw, BODY_MODELS[update_kind])
            except UpdateInvalid as exc:
                metrics.updates.labels(update_kind.value, "invalid").inc()
                return answer(self, 422, exc.reason, f"The body does not meet the {kind} schema.", exc.errors)
            update = referral_update(referral_id, partner.id, received_at, body)
            try:
                await intake.publisher.publish(topics.UPDATES, referral_id.encode(), encode(update))
            except SubmissionNotPublished as exc:
                log.warning("update_not_published", cause=str(exc))
                return answer(
                    self,
                    503,
                    "broker_unavailable",
                    "The update could not be recorded in time; send it again later.",
                    headers={"Retry-After": str(BROKER_RETRY_AFTER_S)},
                )
            metrics.updates.labels(update_kind.value, "published").inc()
            metrics.http_responses.labels("202").inc()
            log.info("update_received", kind=update_kind.value, referral_id=referral_id, update_id=update.update_id)
            return self.json(
                {"referral_id": referral_id, "update_id": update.update_id, "status": "received"}, status=202
            )
