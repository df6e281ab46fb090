"""Intake's agents: open and validate submissions, then admit each referral id once. Thin shells.

Each handler is a module-level function of the message and the `Intake` service object: `validate_message`
takes the raw message (opening it is the validation: what fails becomes a rejection on `referrals.rejected`,
not a dead letter), `admit_message` decodes by the topic registry (`services.common.topic_models`) and
`admit_referral` takes the `Referral`. `register` only binds them to the topics.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import faust
import structlog
from pydantic import ValidationError

from schemas.codec import decode, encode
from schemas.referral import Referral
from schemas.rejection import RejectionReason
from schemas.vocabulary import Channel
from services.common.access import Partner
from services.common.confirmed_step import confirmed_step
from services.common.logs import get_logger
from services.common.topic_models import MODELS
from services.intake.admission import SeenRecord, admit, rejection, to_referral
from services.intake.envelopes import open_message, partner_of_topic
from services.intake.placement import admissible_in_place
from services.intake.validation import SubmissionInvalid

if TYPE_CHECKING:
    from services.intake.service import Intake

log = get_logger("sosafe.intake")


def _message_time(event: faust.EventT[bytes]) -> datetime:
    ts = event.message.timestamp
    return datetime.fromtimestamp(ts, UTC) if ts else datetime.now(UTC)


async def reject(
    intake: Intake,
    raw: bytes,
    exc: SubmissionInvalid,
    *,
    submission_id: str,
    partner_id: str | None,
    channel: Channel,
    received_at: datetime,
    referral_id: str | None = None,
) -> None:
    """Send the submission to `referrals.rejected` with its audit events; counted and logged (no values)."""
    record, events = rejection(
        submission_id=submission_id,
        referral_id=referral_id,
        partner_id=partner_id,
        channel=channel,
        received_at=received_at,
        rejected_at=datetime.now(UTC),
        reason=exc.reason,
        errors=exc.errors,
        raw=raw,
    )
    await intake.rejected.send(key=submission_id.encode(), value=encode(record))
    for event in events:
        await intake.audit.send(key=(referral_id or submission_id).encode(), value=encode(event))
    intake.metrics.rejected.labels(exc.reason, channel.value).inc()
    log.warning(
        "submission_rejected",
        reason=exc.reason,
        error_count=len(exc.errors),
        error_locations=[e.loc for e in exc.errors[:10]],
    )


async def validate_message(event: faust.EventT[bytes], intake: Intake) -> None:
    """Open a message from `referrals.submitted` or a partner's own `referrals.submitted.<partner id>` (the
    partner is the topic's: `services.intake.envelopes`) and make it a referral, or reject it; admit it in
    place when its key already puts it on its referral id's partition, else pass it on keyed by referral id."""
    metrics = intake.metrics
    message = event.message
    structlog.contextvars.bind_contextvars(topic=message.topic, partition=message.partition, offset=message.offset)
    raw = event.value or b""
    received = _message_time(event)
    fallback_id = f"{message.topic}:{message.partition}:{message.offset}"
    producer: Partner | None = None
    try:
        producer = partner_of_topic(intake.access, message.topic)
        opened = open_message(
            raw,
            access=intake.access,
            producer=producer,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            timestamp=received,
        )
    except SubmissionInvalid as exc:
        metrics.received.labels(producer.agency.value if producer else "unknown", Channel.kafka.value).inc()
        await reject(
            intake,
            raw,
            exc,
            submission_id=fallback_id,
            partner_id=producer.id if producer else None,
            channel=Channel.kafka,
            received_at=received,
        )
        return
    envelope = opened.envelope
    metrics.received.labels(opened.partner.agency.value, envelope.channel.value).inc()
    try:
        referral = to_referral(envelope, opened.partner, intake.settings.subject_key_secret.get_secret_value().encode())
    except SubmissionInvalid as exc:
        await reject(
            intake,
            raw,
            exc,
            submission_id=envelope.submission_id,
            partner_id=opened.partner.id,
            channel=envelope.channel,
            received_at=envelope.received_at,
        )
        return
    consumer = intake.app.consumer
    if admissible_in_place(
        message.key,
        referral.referral_id,
        message.partition,
        consumer.topic_partitions(message.topic),
        intake.settings.topic_partitions,
    ):
        await admit_referral(referral, intake)  # keyed where its seen record lives (HTTP): no hop needed
    else:
        await intake.validated.send(key=referral.referral_id.encode(), value=encode(referral))


async def admit_message(event: faust.EventT[bytes], intake: Intake) -> None:
    """A validated referral from intake's internal topic, admitted; anything else there is rejected."""
    try:
        value = decode(event.value, MODELS[event.message.topic])
    except ValidationError:  # only intake writes this topic: a bug or a forged message
        intake.metrics.poison.labels("intake", event.message.topic).inc()
        await reject(
            intake,
            event.value or b"",
            SubmissionInvalid(RejectionReason.internal_invalid, []),
            submission_id=f"internal:{event.message.partition}:{event.message.offset}",
            partner_id=None,
            channel=Channel.kafka,
            received_at=_message_time(event),
        )
        return
    structlog.contextvars.bind_contextvars(
        topic=event.message.topic, partition=event.message.partition, offset=event.message.offset
    )
    match value:
        case Referral():
            await admit_referral(value, intake)
        case _:  # the registry and the agent's topic disagree: a bug, so the worker ends (confirmed_step)
            raise TypeError(f"the admit agent has no handler for {type(value).__name__}")


async def admit_referral(referral: Referral, intake: Intake) -> None:
    """Record the referral id as seen (once), pass the referral on and audit it. Run inside the step of
    the message it came in, whose partition holds the referral's seen record."""
    metrics = intake.metrics
    structlog.contextvars.bind_contextvars(referral_id=referral.referral_id)
    key = referral.referral_id.encode()
    stored = intake.seen.get(key)
    record = decode(stored, SeenRecord) if stored else None
    admission = admit(record, referral)
    agency = referral.submission.source.agency.value
    if not admission.redelivered:
        intake.seen[key] = encode(admission.record)
    if admission.accepted is not None:
        await intake.accepted.send(key=key, value=encode(admission.accepted))
    for audit_event in admission.audit:
        await intake.audit.send(key=key, value=encode(audit_event))
    if admission.redelivered:
        log.info("submission_redelivered", outcome=admission.outcome.value)
        return
    (metrics.accepted if admission.outcome == "accepted" else metrics.duplicate).labels(agency).inc()
    metrics.admission_latency.observe(max(0.0, (datetime.now(UTC) - referral.received_at).total_seconds()))
    log.info("referral_admitted", outcome=admission.outcome.value, agency=agency, channel=referral.channel.value)


def register(intake: Intake) -> None:
    """Bind the handlers to intake's topics: submissions to validate, validated referrals to admit."""

    @intake.app.agent(intake.submitted, name="validate-submissions")
    async def validate_submissions(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            with confirmed_step(event):
                await validate_message(event, intake)

    @intake.app.agent(intake.validated, name="admit-referrals")
    async def admit_referrals(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            with confirmed_step(event):
                await admit_message(event, intake)
