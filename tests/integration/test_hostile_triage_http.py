"""Triage's officer API against its OpenAPI document: fuzzed, and real answers checked against it.

Every refusal must be a 4xx in the documented error shape, and every answer (queues with real items, a
referral's full view, an applied action, the KPI report) must match the document.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis import GenerationMode

from services.cli.stack import Stack
from services.triage.api.openapi import openapi_document
from tests.support.flow import eventually, queue_item
from tests.support.fuzzing import CONFIG, case_id, fuzz, operations
from tests.support.http import post_json
from tests.support.payloads import submission

pytestmark = pytest.mark.integration

OFFICER = "dev-officer-sada"
MANAGER = "dev-manager"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = Stack(workdir=tmp_path_factory.mktemp("hostile-triage"), services=("intake", "triage"), partitions=2)
    started.start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def referrals(stack: Stack) -> list[str]:
    """Two referrals waiting in SADA's queue, so queue answers hold real items."""

    async def submit(reference: str) -> str:
        status, answer = await post_json(
            stack.url("intake") + "/v1/referrals", submission(reference=reference), "dev-partner-police"
        )
        assert status == 202, answer
        referral_id: str = answer["referral_id"]
        await eventually(
            lambda: queue_item(stack.url("triage"), "sada", referral_id, MANAGER, "open"), what="the SADA queue item"
        )
        return referral_id

    async def both() -> list[str]:
        return list(await asyncio.gather(submit("FUZZ-TRIAGE-1"), submit("FUZZ-TRIAGE-2")))

    return asyncio.run(both())


FUZZ_CASES = operations(openapi_document())


@pytest.mark.parametrize(("path", "method", "mode"), FUZZ_CASES, ids=[case_id(c) for c in FUZZ_CASES])
def test_fuzzed_officer_requests_get_no_server_error_and_only_documented_responses(
    stack: Stack, referrals: list[str], path: str, method: str, mode: GenerationMode
) -> None:
    """Generated requests with a duty officer's token: no 5xx; statuses, content types and bodies as documented."""
    fuzz(stack.url("triage"), path, method, mode, OFFICER)


def known_case(stack: Stack, path: str, method: str, **parts: Any) -> schemathesis.Case:
    schema = schemathesis.openapi.from_url(stack.url("triage") + "/v1/openapi.json", config=CONFIG, timeout=10)
    return schema[path][method].Case(**parts)


def test_real_answers_match_the_document(stack: Stack, referrals: list[str]) -> None:
    """A queue with items, a referral's view, an applied claim and the KPI report conform to the document."""
    first, second = referrals
    calls = [
        ("/v1/queues", "GET", {}),
        ("/v1/queues/{service}", "GET", {"path_parameters": {"service": "sada"}, "query": {"state": "all"}}),
        ("/v1/referrals/{referral_id}", "GET", {"path_parameters": {"referral_id": first}}),
        (
            "/v1/queues/{service}/items/{referral_id}/{action}",
            "POST",
            {"path_parameters": {"service": "sada", "referral_id": second, "action": "claim"}, "body": {}},
        ),
        ("/v1/reports/kpis", "GET", {"query": {"from": "2020-01-01", "to": "2100-01-01"}}),
    ]
    for path, method, parts in calls:
        response = known_case(stack, path, method, **parts).call_and_validate(
            headers={"Authorization": f"Bearer {MANAGER}"}, timeout=10
        )
        assert response.status_code == 200, (path, response.text)
    view = (
        known_case(stack, "/v1/referrals/{referral_id}", "GET", path_parameters={"referral_id": first})
        .call(headers={"Authorization": f"Bearer {MANAGER}"}, timeout=10)
        .json()
    )
    assert view["referral"]["referral_id"] == first and view["items"] and view["decisions"] and view["audit"]


def test_the_document_is_served_and_names_every_officer_action(stack: Stack) -> None:
    """GET /v1/openapi.json is the generated document, with claim, accept, decline, reassign and close."""
    schema = schemathesis.openapi.from_url(stack.url("triage") + "/v1/openapi.json", config=CONFIG, timeout=10)
    raw = schema.raw_schema
    assert raw == openapi_document()
    action = raw["paths"]["/v1/queues/{service}/items/{referral_id}/{action}"]["post"]["parameters"][2]
    assert action["schema"]["enum"] == ["claim", "accept", "decline", "reassign", "close"]
