"""Any bytes on referrals.submitted or triage.actions end processed or dead-lettered, never a stuck partition."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.action import OfficerAction
from services.cli.stack import Stack
from tests.support.flow import eventually, queue_item
from tests.support.http import post_json
from tests.support.kafka import produce, read_topic
from tests.support.payloads import submission

pytestmark = pytest.mark.integration

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)
near_submissions = st.builds(
    lambda role, concerns, extra: {**submission(agency="college"), "role": role, "concerns": concerns, **extra},
    st.sampled_from(["victim", "perpetrator", "x", ""]),
    st.lists(st.sampled_from(["domestic_abuse", "hate_crime", "nonsense"]), max_size=3),
    st.dictionaries(st.sampled_from(["risk", "consent", "subject", "extra_field"]), json_values, max_size=2))
near_actions = st.fixed_dictionaries({
    "action_id": st.text(min_size=0, max_size=5), "referral_id": st.text(max_size=40),
    "service": st.sampled_from(["sada", "sos", "nowhere"]),
    "kind": st.sampled_from(["claim", "accept", "explode"]), "officer_id": st.sampled_from(["dev-officer-sada", ""]),
    "requested_at": st.sampled_from(["2026-11-26T10:00:00Z", "yesterday"])})
hostile = (st.binary(max_size=300) | json_values.map(orjson.dumps)
           | near_submissions.map(orjson.dumps) | near_actions.map(orjson.dumps))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = Stack(workdir=tmp_path_factory.mktemp("hostile-topics"), services=("intake", "triage"), partitions=2)
    started.start()
    yield started
    started.stop()


def count(records: list, predicate) -> int:
    return sum(1 for record in records if predicate(json.loads(record.value)))


async def submitted_events(bootstrap: str, at_least: int) -> int:
    records = await read_topic(bootstrap, "audit.events", timeout=60,
                               until=lambda rs: count(rs, lambda v: v["action"] == "submitted") >= at_least)
    return count(records, lambda v: v["action"] == "submitted")


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(hostile, min_size=5, max_size=25))
def test_any_bytes_on_referrals_submitted_end_accepted_or_rejected(stack: Stack, batch: list[bytes]) -> None:
    """Every message gets exactly one outcome on the audit trail (submitted, then accepted, duplicate or
    rejected), and a valid referral after the batch still goes through."""

    async def run() -> None:
        bootstrap = stack.broker.bootstrap
        before = await submitted_events(bootstrap, 0)
        for raw in batch:
            await produce(bootstrap, "referrals.submitted", raw)
        body = submission(agency="college")
        status, answer = await post_json(stack.url("intake") + "/v1/referrals", body, "dev-partner-college")
        assert status == 202
        assert await submitted_events(bootstrap, before + len(batch) + 1) == before + len(batch) + 1
        await eventually(lambda: queue_item(stack.url("triage"), "sada", answer["referral_id"], "dev-manager"),
                         what="the valid referral queued after the hostile batch")

    asyncio.run(run())
    assert stack.processes["intake"].alive() and stack.processes["triage"].alive()


def is_action(raw: bytes) -> bool:
    try:
        OfficerAction.model_validate_json(raw)
    except ValidationError:
        return False
    return True


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(hostile, min_size=5, max_size=25))
def test_any_bytes_on_triage_actions_are_applied_or_dead_lettered(stack: Stack, batch: list[bytes]) -> None:
    """Messages that are not officer actions land on messages.dead; the case agent keeps working."""

    async def run() -> None:
        bootstrap = stack.broker.bootstrap
        dead_before = await read_topic(bootstrap, "messages.dead", timeout=2)
        for raw in batch:
            await produce(bootstrap, "triage.actions", raw, key=b"hostile")
        invalid = sum(1 for raw in batch if not is_action(raw))
        dead = await read_topic(bootstrap, "messages.dead", timeout=60,
                                until=lambda rs: len(rs) >= len(dead_before) + invalid, settle=0.5)
        assert len(dead) == len(dead_before) + invalid
        assert all(json.loads(r.value)["topic"] == "triage.actions" for r in dead[len(dead_before):])
        body = submission(agency="college")
        status, answer = await post_json(stack.url("intake") + "/v1/referrals", body, "dev-partner-college")
        assert status == 202
        await eventually(lambda: queue_item(stack.url("triage"), "sada", answer["referral_id"], "dev-manager"),
                         what="a referral queued after the hostile actions")

    asyncio.run(run())
    assert stack.processes["triage"].alive()
