"""A direct producer is the partner whose topic it writes to, on the real embedded broker.

The embedded broker has no ACLs: here any client may write any topic, so what these tests show is the rule
intake applies (the partner is the topic's, never the payload's). That only the partner's principal can
write `referrals.submitted.<partner id>` is the cluster's ACLs (docs/operations.md#topics-and-principals).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from schemas.identity import referral_id_for
from services.cli.stack import Stack
from services.common.broker import create_topics, free_port
from tests.support.kafka import produce, read_topic
from tests.support.payloads import submission

pytestmark = pytest.mark.integration

UNREGISTERED = "referrals.submitted.retired-partner"
"""A partner topic left on the broker after its partner was removed from the access file."""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = Stack(workdir=tmp_path_factory.mktemp("partners"), services=("intake",), partitions=2)
    started.ports["intake"] = free_port()
    try:
        started.start_broker()
        assert started.broker is not None
        asyncio.run(create_topics(started.broker.bootstrap, started.partitions, [UNREGISTERED]))
        started.start_service("intake")
        yield started
    finally:
        started.stop()


def _values(records: list) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records]


async def _rejection_and_audit(stack: Stack, reference: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The rejection whose raw payload holds `reference`, and the audit events of its chain."""
    assert stack.broker is not None
    rejected = await read_topic(
        stack.broker.bootstrap,
        "referrals.rejected",
        until=lambda rs: any(reference in v["raw_payload"]["excerpt"] for v in _values(rs)),
    )
    [record] = [v for v in _values(rejected) if reference in v["raw_payload"]["excerpt"]]
    chain = f"intake:rejection-{record['submission_id']}"
    audit = await read_topic(
        stack.broker.bootstrap,
        "audit.events",
        until=lambda rs: any(v["chain"] == chain and v["action"] == "rejected" for v in _values(rs)),
    )
    return record, [v for v in _values(audit) if v["chain"] == chain]


async def _accepted(stack: Stack, referral_id: str, settle: float = 0.0) -> list[dict[str, Any]]:
    assert stack.broker is not None
    records = await read_topic(
        stack.broker.bootstrap,
        "referrals.accepted",
        settle=settle,
        until=lambda rs: settle > 0 or any(v["referral_id"] == referral_id for v in _values(rs)),
        timeout=30.0 if settle == 0 else settle + 1,
    )
    return [v for v in _values(records) if v["referral_id"] == referral_id]


async def test_a_valid_submission_on_a_partner_s_own_topic_is_accepted_as_that_partner(stack: Stack) -> None:
    assert stack.broker is not None
    body = submission(agency="hospital", reference="OWN-TOPIC-1")
    await produce(stack.broker.bootstrap, "referrals.submitted.dev-hospital", orjson.dumps(body))
    [referral] = await _accepted(stack, referral_id_for("dev-hospital", "OWN-TOPIC-1"))
    assert referral["partner_id"] == "dev-hospital" and referral["channel"] == "kafka"


@pytest.mark.parametrize(
    ("source", "loc"),
    [
        ({"agency": "hospital", "system": "dev-hospital"}, "source.agency"),
        ({"agency": "police", "system": "dev-hospital"}, "source.system"),
    ],
    ids=["another-agency", "another-system"],
)
async def test_a_partner_claiming_another_agency_or_system_is_rejected_and_audited(
    stack: Stack, source: dict[str, str], loc: str
) -> None:
    """The police partner writes to its own topic a submission that says it comes from the hospital."""
    assert stack.broker is not None
    reference = f"CLAIM-{loc.upper()}"
    body = submission(agency="police", reference=reference)
    body["source"] = {**body["source"], **source}
    await produce(stack.broker.bootstrap, "referrals.submitted.dev-police", orjson.dumps(body))
    record, audit = await _rejection_and_audit(stack, reference)
    assert record["reason"] == "partner_mismatch"
    assert record["partner_id"] == "dev-police"  # the topic's partner, not the claimed one
    assert [(e["loc"], e["code"]) for e in record["errors"]] == [(loc, "partner_mismatch")]
    assert [(v["action"], v["actor"], v["details"]["reason"]) for v in audit] == [
        ("submitted", "dev-police", "partner_mismatch"),
        ("rejected", "dev-police", "partner_mismatch"),
    ]
    assert await _accepted(stack, referral_id_for(source["system"], reference), settle=2.0) == []


async def test_a_submission_on_a_topic_of_no_registered_partner_is_rejected_and_audited(stack: Stack) -> None:
    """A well-formed submission of a registered partner, written to a retired partner's topic."""
    assert stack.broker is not None
    body = submission(agency="gp", reference="RETIRED-TOPIC-1")
    await produce(stack.broker.bootstrap, UNREGISTERED, orjson.dumps(body))
    record, audit = await _rejection_and_audit(stack, "RETIRED-TOPIC-1")
    assert record["reason"] == "unknown_partner_topic" and record["partner_id"] is None
    assert [(e["loc"], e["code"]) for e in record["errors"]] == [("(topic)", "unknown_partner_topic")]
    assert [(v["action"], v["actor"]) for v in audit] == [("submitted", "unknown"), ("rejected", "unknown")]
    assert await _accepted(stack, referral_id_for("dev-gp", "RETIRED-TOPIC-1"), settle=2.0) == []
