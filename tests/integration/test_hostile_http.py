"""Hostile HTTP against intake (the "bad input" guarantee): fuzzing from the OpenAPI document and hand-made attacks.

Every refusal must be a quick 4xx in the documented error shape; afterwards intake still works.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import schemathesis
from schemathesis import GenerationMode

from services.cli.stack import Stack
from services.intake.http_gate import BODY_READ_TIMEOUT_S
from services.intake.openapi import openapi_document
from tests.support.fuzzing import case_id, fuzz, operations
from tests.support.payloads import submission

pytestmark = pytest.mark.integration

TOKEN = "dev-partner-police"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUICK = aiohttp.ClientTimeout(total=5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = Stack(workdir=tmp_path_factory.mktemp("hostile"), services=("intake",), partitions=2)
    started.start()
    yield started
    started.stop()


FUZZ_CASES = operations(openapi_document())
"""Every documented operation with valid data, and each one that takes a body or parameters with invalid data."""


ACCEPTED = ["2xx", "413", "429"]
"""What valid data may get: accepted, or refused only because the body is over the size limit or the partner
over its rate (the schema bounds each field, not the whole body's bytes)."""


def as_the_police_partner_now(case: schemathesis.Case) -> schemathesis.Case:
    """Valid data as a partner reads the documents: the rules JSON Schema cannot express, which the field
    descriptions state, are kept (submitted now, born on or before that day), and the source is the token's
    partner. Only positive cases are touched."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return case
    if "source" not in case.body:  # an update or withdrawal: no source or subject to align
        return case
    now = datetime.now(UTC)
    body = copy.deepcopy(case.body)
    body["submitted_at"] = now.isoformat()
    body["source"] = {**body["source"], "agency": "police", "system": "dev-police"}
    born = body["subject"].get("date_of_birth")
    if born is not None and born > now.date().isoformat():
        body["subject"] = {**body["subject"], "date_of_birth": now.date().isoformat()}
    case.body = body
    return case


@pytest.mark.parametrize(("path", "method", "mode"), FUZZ_CASES, ids=[case_id(c) for c in FUZZ_CASES])
def test_fuzzed_requests_pass_every_schemathesis_check(
    stack: Stack, path: str, method: str, mode: GenerationMode
) -> None:
    """Generated requests pass every check (`--checks all`): no 5xx; status, content type, headers and body as
    documented; valid data accepted and invalid data refused, so intake enforces what the documents publish.

    The schema is loaded from the running service, whose port is only known now; schemathesis's
    `pytest.from_fixture` would do that, but it breaks on pytest 9 (it sets `Function._nodeid`), so the
    cases are drawn with hypothesis (tests/support/fuzzing.py). Valid data is sent as a partner reads the
    documents (`as_the_police_partner_now`); a body over 64 KB rightly gets 413.
    """
    # An update or withdrawal names a referral id drawn at random: valid data may rightly get 404 (not this
    # partner's referral), which JSON Schema cannot rule out.
    accepted = [*ACCEPTED, "404"] if "{referral_id}" in path else ACCEPTED
    fuzz(stack.url("intake"), path, method, mode, TOKEN, accepted=accepted, prepare=as_the_police_partner_now)


async def post(
    stack: Stack,
    data: bytes | AsyncIterator[bytes],
    content_type: str | None = "application/json",
) -> tuple[int, Any]:
    """POST to /v1/referrals as the police partner; the answer's status and JSON, within QUICK."""
    headers = dict(AUTH)
    if content_type is not None:
        headers["Content-Type"] = content_type
    skip = () if content_type is not None else ("Content-Type",)
    async with (
        aiohttp.ClientSession(timeout=QUICK, skip_auto_headers=skip) as session,
        session.post(stack.url("intake") + "/v1/referrals", data=data, headers=headers) as response,
    ):
        return response.status, await response.json(content_type=None)


def assert_error_shape(answer: Any, code: str) -> None:
    assert answer["error"] == code and isinstance(answer["detail"], str) and isinstance(answer["errors"], list)


@pytest.mark.parametrize(
    "body", [b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000], ids=["arrays", "objects"]
)
async def test_deeply_nested_json_is_refused_as_invalid_json(stack: Stack, body: bytes) -> None:
    """10,000 levels of nesting (orjson stops at 1024) is a 422, not a crash or a 500."""
    status, answer = await post(stack, body)
    assert status == 422
    assert_error_shape(answer, "invalid_json")


async def test_a_five_megabyte_body_is_refused_as_too_large(stack: Stack) -> None:
    """A 5 MB body with its Content-Length is a 413 without being read."""
    status, answer = await post(stack, b"x" * 5_000_000)
    assert status == 413
    assert_error_shape(answer, "too_large")


async def test_a_five_megabyte_chunked_body_is_refused_as_too_large(stack: Stack) -> None:
    """A 5 MB body sent in chunks, with no Content-Length to refuse early, is still a 413."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(50):
            yield b"x" * 100_000

    status, answer = await post(stack, chunks())
    assert status == 413
    assert_error_shape(answer, "too_large")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", None]
)
async def test_a_body_that_is_not_declared_json_is_unsupported(stack: Stack, content_type: str | None) -> None:
    """A valid referral sent as another media type, or with none, is a 415."""
    status, answer = await post(stack, json.dumps(submission()).encode(), content_type)
    assert status == 415
    assert_error_shape(answer, "unsupported_media_type")


async def test_invalid_utf8_in_a_json_body_is_invalid_json(stack: Stack) -> None:
    """Bytes that are not UTF-8 inside a JSON string are a 422 that echoes nothing back."""
    status, answer = await post(stack, b'{"narrative": "\xff\xfe\xc3\x28"}')
    assert status == 422
    assert_error_shape(answer, "invalid_json")


@pytest.mark.parametrize("body", [b"null", b"[]", b"[{}]", b"42", b'"referral"', b"true"])
async def test_json_that_is_not_an_object_is_an_invalid_submission(stack: Stack, body: bytes) -> None:
    """A JSON null, array, number, string or boolean is a 422 naming the body."""
    status, answer = await post(stack, body)
    assert status == 422
    assert_error_shape(answer, "invalid_submission")
    assert [e["loc"] for e in answer["errors"]] == ["(body)"]


async def raw_exchange(stack: Stack, head: bytes, body_part: bytes, wait: float) -> tuple[bytes, float]:
    """Send raw bytes and return what the server answers (until it closes or `wait` runs out), with the time."""
    url = urlsplit(stack.url("intake"))
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    started = time.monotonic()
    try:
        writer.write(head + body_part)
        await writer.drain()
        answer = b""
        deadline = started + wait
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            chunk = await asyncio.wait_for(reader.read(65536), max(0.01, deadline - time.monotonic()))
            if not chunk:
                break
            answer += chunk
        return answer, time.monotonic() - started
    finally:
        writer.close()


async def test_a_body_that_stops_arriving_is_answered_408_within_the_read_timeout(stack: Stack) -> None:
    """Content-Length 1000 then a few bytes and silence: 408 after the body timeout, not a hung handler."""
    head = (
        b"POST /v1/referrals HTTP/1.1\r\nHost: intake\r\n"
        b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    answer, took = await raw_exchange(stack, head, b'{"schema_version": ', wait=BODY_READ_TIMEOUT_S + 5)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert BODY_READ_TIMEOUT_S - 1 <= took <= BODY_READ_TIMEOUT_S + 5
    assert b'"error":"body_timeout"' in answer


async def test_an_oversized_header_is_refused_by_the_http_server(stack: Stack) -> None:
    """A 100 KB header line is refused with a 4xx straight away, before any handler runs."""
    head = (
        b"POST /v1/referrals HTTP/1.1\r\nHost: intake\r\nX-Padding: " + b"a" * 100_000 + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n"
    )
    answer, took = await raw_exchange(stack, head, b"{}", wait=5)
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else 0
    assert status in {400, 431}, answer[:200]
    assert took < 5


async def test_after_the_attacks_intake_is_healthy_and_accepts_a_valid_referral(stack: Stack) -> None:
    """/healthz answers 200 and a valid referral is still accepted."""
    async with (
        aiohttp.ClientSession(timeout=QUICK) as session,
        session.get(stack.url("intake") + "/healthz") as response,
    ):
        assert response.status == 200
    status, answer = await post(stack, json.dumps(submission(reference="HOSTILE-AFTER-1")).encode())
    assert status == 202 and answer["status"] == "accepted"
