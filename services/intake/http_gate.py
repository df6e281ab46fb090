"""The checks every partner POST to intake passes before its body is looked at: the partner's token, its
rate limit, the body's declared size and type, and the body arriving in time. Each refusal is counted,
logged by its code only and answered with the error body; a view calls these in order and returns the
`Response` any of them gives.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from faust.web import Request, Response, View

from schemas.rejection import FieldError
from schemas.submission import MAX_BODY_BYTES
from services.common.access import Partner, bearer_token
from services.common.logs import get_logger
from services.common.web_errors import error_response
from services.intake.publisher import SubmissionNotPublished

if TYPE_CHECKING:
    from services.intake.service import Intake

log = get_logger("sosafe.intake.web")

BODY_READ_TIMEOUT_S = 10.0
"""aiohttp has no body read timeout: without one a client that stops mid-body holds its handler forever."""

BROKER_RETRY_AFTER_S = 5
"""The `Retry-After` of a 503: long enough for a broker restart to be noticed, short for a partner."""


def answer(
    intake: Intake,
    view: View,
    status: int,
    code: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    *,
    event: str = "submission_refused",
) -> Response:
    """A refusal: counted, logged (its code only, as `event`) and answered with the error body."""
    intake.metrics.http_responses.labels(str(status)).inc()
    log.info(event, status=status, error=code)
    return error_response(view, status, code, detail, errors or [], headers)


def broker_unavailable(
    intake: Intake, view: View, exc: SubmissionNotPublished, detail: str, *, event: str = "submission_refused"
) -> Response:
    """503 with `Retry-After`: the broker did not acknowledge in time, so nothing was recorded."""
    log.warning("not_published", cause=str(exc))
    headers = {"Retry-After": str(BROKER_RETRY_AFTER_S)}
    return answer(intake, view, 503, "broker_unavailable", detail, headers=headers, event=event)


def authorised_partner(
    intake: Intake, view: View, request: Request, *, event: str = "submission_refused"
) -> Partner | Response:
    """The token's partner within its rate limit, or the 401 or 429 answer."""
    partner = intake.tokens.partner(bearer_token(request.headers.get("Authorization")) or "")
    if partner is None:
        return answer(
            intake,
            view,
            401,
            "unauthorised",
            "A valid partner bearer token is required.",
            headers={"WWW-Authenticate": "Bearer"},
            event=event,
        )
    if not intake.rate_limiter.allow(partner.id, partner.rate_limit_per_minute, time.monotonic()):
        retry = str(intake.rate_limiter.retry_after(partner.rate_limit_per_minute))
        headers = {"Retry-After": retry}
        return answer(
            intake, view, 429, "rate_limited", "Too many requests; retry later.", headers=headers, event=event
        )
    return partner


async def json_body(
    intake: Intake, view: View, request: Request, *, event: str = "submission_refused"
) -> bytes | Response:
    """The body's bytes, or the 413 (too large), 415 (not JSON) or 408 (too slow) answer."""
    too_large = f"The body is over {MAX_BODY_BYTES} bytes."
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return answer(intake, view, 413, "too_large", too_large, event=event)
    if request.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
        return answer(intake, view, 415, "unsupported_media_type", "Send the body as application/json.", event=event)
    try:
        body = await asyncio.wait_for(request.read(), BODY_READ_TIMEOUT_S)
    except TimeoutError:
        detail = f"The body did not arrive within {BODY_READ_TIMEOUT_S:.0f} seconds."
        return answer(intake, view, 408, "body_timeout", detail, event=event)
    except Exception:  # aiohttp raises HTTPRequestEntityTooLarge past client_max_size
        return answer(intake, view, 413, "too_large", too_large, event=event)
    if len(body) > MAX_BODY_BYTES:
        return answer(intake, view, 413, "too_large", too_large, event=event)
    return body
