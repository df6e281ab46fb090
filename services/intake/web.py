"""Intake's HTTP views: submit a referral, the schema, the OpenAPI document."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from faust.web import Request, Response, View

from schemas.codec import decode, encode
from schemas.envelope import SubmissionEnvelope
from schemas.identity import referral_id_for
from schemas.rejection import FieldError
from schemas.submission import MAX_BODY_BYTES, ReferralSubmission
from schemas.vocabulary import Channel
from services.common import topics
from services.common.access import Partner, bearer_token
from services.common.logs import get_logger
from services.common.web_errors import error_response
from services.intake.admission import SeenRecord, rejection
from services.intake.openapi import openapi_document
from services.intake.publisher import SubmissionNotPublished
from services.intake.validation import SubmissionInvalid, parse_json, validate_submission

if TYPE_CHECKING:
    from services.intake.service import Intake

log = get_logger("sosafe.intake.web")

BODY_READ_TIMEOUT_S = 10.0
"""aiohttp has no body read timeout: without one a client that stops mid-body holds its handler forever."""

BROKER_RETRY_AFTER_S = 5
"""The `Retry-After` of a 503: long enough for a broker restart to be noticed, short for a partner."""
BROKER_UNAVAILABLE_DETAIL = (
    "The referral could not be recorded in time; send it again later. Retrying is "
    "safe: a referral that arrives twice is recognised and triaged once."
)


def answer(
    intake: Intake,
    view: View,
    status: int,
    code: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A refusal: counted, logged (its code only) and answered with the error body."""
    intake.metrics.http_responses.labels(str(status)).inc()
    log.info("submission_refused", status=status, error=code)
    return error_response(view, status, code, detail, errors or [], headers)


def broker_unavailable(intake: Intake, view: View, exc: SubmissionNotPublished) -> Response:
    log.warning("submission_not_published", cause=str(exc))
    return answer(
        intake,
        view,
        503,
        "broker_unavailable",
        BROKER_UNAVAILABLE_DETAIL,
        headers={"Retry-After": str(BROKER_RETRY_AFTER_S)},
    )


async def dead_letter_invalid_json(
    intake: Intake, body: bytes, exc: SubmissionInvalid, partner: Partner, received_at: datetime
) -> None:
    """A body that is not JSON, recorded as the agent records a message that is not JSON: its rejection
    (a bounded excerpt) on `referrals.rejected` and its audit events, each acknowledged by the broker
    before the partner is answered (SubmissionNotPublished otherwise)."""
    submission_id = str(uuid.uuid4())
    record, events = rejection(
        submission_id=submission_id,
        referral_id=None,
        partner_id=partner.id,
        channel=Channel.http,
        received_at=received_at,
        rejected_at=datetime.now(UTC),
        reason=exc.reason,
        errors=exc.errors,
        raw=body,
    )
    key = submission_id.encode()
    await intake.publisher.publish(topics.REJECTED, key, encode(record))
    for event in events:
        await intake.publisher.publish(topics.AUDIT, key, encode(event))
    intake.metrics.received.labels(partner.agency.value, Channel.http.value).inc()
    intake.metrics.rejected.labels(exc.reason, Channel.http.value).inc()
    log.warning("submission_rejected", reason=exc.reason, error_count=len(exc.errors), channel="http")


async def publish_submission(
    intake: Intake, payload: object, partner_id: str, received_at: datetime, referral_id: str | None
) -> None:
    """Put the submission on `referrals.submitted` and wait for the broker's acknowledgement, at most
    `publish_timeout_s` (SubmissionNotPublished). Marks nothing seen: the agent does that."""
    envelope = SubmissionEnvelope(
        submission_id=str(uuid.uuid4()),
        partner_id=partner_id,
        channel=Channel.http,
        received_at=received_at,
        payload=payload if isinstance(payload, dict) else {"body": payload},
    )
    key = referral_id.encode() if referral_id else None
    await intake.publisher.publish(topics.SUBMITTED, key, encode(envelope))


async def submit_referral(intake: Intake, view: View, request: Request) -> Response:
    """`POST /v1/referrals`: authenticate, limit, read and validate the body, publish, answer 202."""
    partner = intake.tokens.partner(bearer_token(request.headers.get("Authorization")) or "")
    if partner is None:
        return answer(
            intake,
            view,
            401,
            "unauthorised",
            "A valid partner bearer token is required.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not intake.rate_limiter.allow(partner.id, partner.rate_limit_per_minute, time.monotonic()):
        retry = str(intake.rate_limiter.retry_after(partner.rate_limit_per_minute))
        return answer(
            intake, view, 429, "rate_limited", "Too many submissions; retry later.", headers={"Retry-After": retry}
        )
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return answer(intake, view, 413, "too_large", f"The body is over {MAX_BODY_BYTES} bytes.")
    if request.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
        return answer(intake, view, 415, "unsupported_media_type", "Send the referral as application/json.")
    try:
        body = await asyncio.wait_for(request.read(), BODY_READ_TIMEOUT_S)
    except TimeoutError:
        return answer(
            intake, view, 408, "body_timeout", f"The body did not arrive within {BODY_READ_TIMEOUT_S:.0f} seconds."
        )
    except Exception:  # aiohttp raises HTTPRequestEntityTooLarge past client_max_size
        return answer(intake, view, 413, "too_large", f"The body is over {MAX_BODY_BYTES} bytes.")
    if len(body) > MAX_BODY_BYTES:
        return answer(intake, view, 413, "too_large", f"The body is over {MAX_BODY_BYTES} bytes.")
    received_at = datetime.now(UTC)
    try:
        payload = parse_json(body)
        submission = validate_submission(payload, received_at)
    except SubmissionInvalid as exc:
        try:
            if exc.reason == "invalid_json":  # no envelope can carry it: dead-lettered from here
                await dead_letter_invalid_json(intake, body, exc, partner, received_at)
            else:  # valid JSON goes to the dead-letter topic through the agent
                await publish_submission(intake, payload, partner.id, received_at, None)
        except SubmissionNotPublished as not_published:
            return broker_unavailable(intake, view, not_published)
        return answer(intake, view, 422, exc.reason, "The referral does not meet the submission schema.", exc.errors)
    if submission.source.agency != partner.agency or submission.source.system != partner.system:
        return answer(
            intake, view, 403, "wrong_partner", "source.agency and source.system must be the token's partner."
        )
    referral_id = referral_id_for(submission.source.system, submission.source.reference)
    known = intake.seen.get(referral_id.encode())
    status = "duplicate" if known and decode(known, SeenRecord) else "accepted"
    try:
        await publish_submission(intake, payload, partner.id, received_at, referral_id)
    except SubmissionNotPublished as exc:
        return broker_unavailable(intake, view, exc)
    intake.metrics.http_responses.labels("202").inc()
    log.info("submission_received", channel="http", agency=partner.agency.value, status=status, referral_id=referral_id)
    return view.json({"referral_id": referral_id, "status": status}, status=202)


def register(intake: Intake) -> None:
    """Bind the handlers above to intake's routes."""
    app = intake.app

    @app.page("/v1/referrals")
    class Referrals(View):
        async def post(self, request: Request) -> Response:
            return await submit_referral(intake, self, request)

    @app.page("/v1/schema")
    async def schema(self: View, request: Request) -> Response:
        return self.json(ReferralSubmission.model_json_schema())

    @app.page("/v1/openapi.json")
    async def openapi(self: View, request: Request) -> Response:
        return self.json(openapi_document())
