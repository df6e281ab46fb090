"""Each referring partner's own outcome topic end to end: a referral by one partner is triaged and claimed, and
`referrals.outcomes.<that partner>` holds exactly the outcomes triage published for it, once each, keyed by
referral id; another partner's topic holds none of them (but its own)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from aiokafka.structs import ConsumerRecord

from services.cli.stack import Stack
from services.common.topics import OUTCOMES, partner_outcomes
from tests.support.config import with_outcome_topics
from tests.support.flow import eventually, queue_item
from tests.support.http import post_json
from tests.support.kafka import read_topic
from tests.support.payloads import distinctive_submission

pytestmark = pytest.mark.integration

MANAGER = "dev-manager"
A, B = "dev-police", "dev-hospital"
"""Partners of the development access file, which submit with the tokens `dev-partner-<agency>`."""


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    workdir = tmp_path_factory.mktemp("partner-outcomes")
    access = with_outcome_topics(workdir / "access.yaml", ("dev-police", "dev-hospital"))
    started = Stack(workdir=workdir / "stack", partitions=2, extra_env={"SOSAFE_CONFIG_FILE": str(access)})
    await asyncio.to_thread(started.start)
    yield started
    await asyncio.to_thread(started.stop)


async def submit(stack: Stack, agency: str, reference: str) -> str:
    body = distinctive_submission(agency, reference=reference)
    body["risk"] = {"dash_score": 10, "level": "medium", "immediate_danger": False}  # SADA's item only
    status, answer = await post_json(stack.url("intake") + "/v1/referrals", body, f"dev-partner-{agency}")
    assert status == 202, answer
    return str(answer["referral_id"])


def outcome_ids(records: list[ConsumerRecord], referral_id: str) -> list[str]:
    """The outcome ids of one referral, in the order the records arrived (a repeat stays in the list)."""
    return [
        value["outcome_id"] for value in (json.loads(r.value) for r in records) if value["referral_id"] == referral_id
    ]


def holds(ids: set[str], referral_id: str) -> Callable[[list[ConsumerRecord]], bool]:
    return lambda records: set(outcome_ids(records, referral_id)) >= ids


@pytest.mark.asyncio(loop_scope="module")
async def test_a_partner_s_topic_holds_exactly_its_referral_s_outcomes_and_another_partner_s_none(
    stack: Stack,
) -> None:
    assert stack.broker is not None
    bootstrap = stack.broker.bootstrap
    mine, theirs = await submit(stack, "police", "REF-TOPIC-A"), await submit(stack, "hospital", "REF-TOPIC-B")
    await eventually(lambda: queue_item(stack.url("triage"), "sada", mine, MANAGER), what="A's SADA item")
    status, answer = await post_json(f"{stack.url('triage')}/v1/queues/sada/items/{mine}/claim", {}, MANAGER)
    assert status == 200, answer

    def claimed(records: list[ConsumerRecord]) -> bool:
        values = [json.loads(r.value) for r in records]
        return any(v["referral_id"] == mine and v["kind"] == "claimed" for v in values) and any(
            v["referral_id"] == theirs for v in values
        )

    published = await read_topic(bootstrap, OUTCOMES, until=claimed, timeout=90, settle=1.0)
    expected = set(outcome_ids(published, mine))
    expected_theirs = set(outcome_ids(published, theirs))
    assert {json.loads(r.value)["kind"] for r in published if json.loads(r.value)["referral_id"] == mine} >= {
        "triaged",
        "claimed",
    }
    assert expected_theirs and not expected & expected_theirs

    on_a = await read_topic(bootstrap, partner_outcomes(A), until=holds(expected, mine), timeout=90, settle=2.0)
    forwarded = outcome_ids(on_a, mine)
    assert len(forwarded) == len(set(forwarded)), f"an outcome forwarded twice: {forwarded}"
    assert set(forwarded) == expected
    assert all(r.key == mine.encode() for r in on_a if json.loads(r.value)["referral_id"] == mine)
    assert outcome_ids(on_a, theirs) == [], "B's referral on A's topic"
    assert {json.loads(r.value)["partner_id"] for r in on_a} == {A}

    on_b = await read_topic(bootstrap, partner_outcomes(B), until=holds(expected_theirs, theirs), timeout=90)
    assert set(outcome_ids(on_b, theirs)) == expected_theirs, "B's own outcomes reach B's topic"
    assert outcome_ids(on_b, mine) == [], "A's referral on B's topic"
    assert {json.loads(r.value)["partner_id"] for r in on_b} == {B}
