"""Intake's HTTP views: submit a referral, the schema, the OpenAPI document."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from faust.web import Request, Response, View

from schemas.codec import decode, encode
from schemas.envelope import SubmissionEnvelope
from schemas.identity import referral_id_for
from schemas.submission import ReferralSubmission
from schemas.vocabulary import Channel
from services.common import topics
from services.common.access import Partner
from services.common.logs import get_logger
from services.intake.admission import SeenRecord, rejection
from services.intake.http_gate import answer, authorised_partner, broker_unavailable, json_body
from services.intake.openapi import openapi_document
from services.intake.publisher import SubmissionNotPublished
from services.intake.validation import SubmissionInvalid, parse_json, validate_submission

if TYPE_CHECKING:
    from services.intake.service import Intake

log = get_logger("sosafe.intake.web")

BROKER_UNAVAILABLE_DETAIL = (
    "The referral could not be recorded in time; send it again later. Retrying is "
    "safe: a referral that arrives twice is recognised and triaged once."
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
    partner = authorised_partner(intake, view, request)
    if not isinstance(partner, Partner):
        return partner
    body = await json_body(intake, view, request)
    if not isinstance(body, bytes):
        return body
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
            return broker_unavailable(intake, view, not_published, BROKER_UNAVAILABLE_DETAIL)
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
        return broker_unavailable(intake, view, exc, BROKER_UNAVAILABLE_DETAIL)
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
