"""Intake end to end on the real embedded broker: HTTP and direct producers, accepted and rejected."""

from __future__ import annotations

import json
from collections.abc import Iterator

import orjson
import pytest

from schemas.identity import referral_id_for
from services.cli.stack import Stack
from tests.support.config import access_with_partner
from tests.support.http import post_json
from tests.support.kafka import produce, read_topic
from tests.support.payloads import DISTINCTIVE, distinctive_submission, submission

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("intake")
    access = access_with_partner(workdir / "access.yaml", "slow-voluntary", "slow-partner-token", 2)
    started = Stack(workdir=workdir, services=("intake",), partitions=2, extra_env={"SOSAFE_CONFIG_FILE": str(access)})
    started.start()
    yield started
    started.stop()


def _values(records: list, referral_id: str | None = None) -> list[dict]:
    out = [json.loads(r.value) for r in records]
    return [v for v in out if referral_id is None or v.get("referral_id") == referral_id]


async def test_http_submission_reaches_referrals_accepted_once_even_when_resubmitted(stack: Stack) -> None:
    """A submission is accepted; resubmitting it gives the same id and no second accepted message."""
    body = submission(reference="HC-ONCE-1")
    url = stack.url("intake") + "/v1/referrals"
    status, first = await post_json(url, body, "dev-partner-police")
    assert status == 202 and first["status"] == "accepted"
    assert first["referral_id"] == referral_id_for("dev-police", "HC-ONCE-1")
    rid = first["referral_id"]
    accepted = await read_topic(
        stack.broker.bootstrap, "referrals.accepted", until=lambda rs: len(_values(rs, rid)) >= 1
    )
    status, second = await post_json(url, body, "dev-partner-police")
    assert status == 202 and second["referral_id"] == rid
    assert second["status"] in {"duplicate", "accepted"}
    audit = await read_topic(
        stack.broker.bootstrap,
        "audit.events",
        settle=2.0,
        until=lambda rs: any(v["action"] == "duplicate" for v in _values(rs, rid)),
    )
    accepted = await read_topic(
        stack.broker.bootstrap, "referrals.accepted", settle=0.5, until=lambda rs: len(_values(rs, rid)) >= 1
    )
    assert len(_values(accepted, rid)) == 1
    actions = [v["action"] for v in _values(audit, rid)]
    assert actions == ["submitted", "accepted", "submitted", "duplicate"]


async def test_direct_producer_without_key_is_accepted(stack: Stack) -> None:
    """A partner producing a bare submission straight onto its own topic, with no key, is accepted."""
    body = submission(agency="hospital", reference="LH-DIRECT-1")
    await produce(stack.broker.bootstrap, "referrals.submitted.dev-hospital", orjson.dumps(body), key=None)
    rid = referral_id_for("dev-hospital", "LH-DIRECT-1")
    accepted = await read_topic(
        stack.broker.bootstrap, "referrals.accepted", until=lambda rs: len(_values(rs, rid)) >= 1
    )
    [referral] = _values(accepted, rid)
    assert referral["channel"] == "kafka" and referral["partner_id"] == "dev-hospital"


async def test_malformed_direct_message_is_dead_lettered_with_field_errors_and_audited(stack: Stack) -> None:
    """A malformed message lands on referrals.rejected naming each field, with a rejected audit event."""
    body = submission(agency="gp", reference="GP-BAD-1", role="bystander")
    del body["consent"]
    await produce(stack.broker.bootstrap, "referrals.submitted", orjson.dumps(body))
    rejected = await read_topic(
        stack.broker.bootstrap,
        "referrals.rejected",
        until=lambda rs: any("GP-BAD-1" in v["raw_payload"]["excerpt"] for v in _values(rs)),
    )
    [record] = [v for v in _values(rejected) if "GP-BAD-1" in v["raw_payload"]["excerpt"]]
    locations = {e["loc"] for e in record["errors"]}
    assert {"role", "consent"} <= locations
    assert record["reason"] == "invalid_submission"
    audit = await read_topic(
        stack.broker.bootstrap,
        "audit.events",
        until=lambda rs: any(
            v["chain"] == f"intake:rejection-{record['submission_id']}" and v["action"] == "rejected"
            for v in _values(rs)
        ),
    )
    assert any(v["action"] == "rejected" for v in _values(audit))


async def test_undecodable_bytes_are_rejected_and_the_agent_keeps_going(stack: Stack) -> None:
    """Bytes that are not JSON are dead-lettered; a valid message after them is still accepted."""
    await produce(stack.broker.bootstrap, "referrals.submitted", b"\xff\xfe not json {")
    body = submission(agency="school", reference="SCH-AFTER-JUNK")
    await produce(stack.broker.bootstrap, "referrals.submitted", orjson.dumps(body))
    rejected = await read_topic(
        stack.broker.bootstrap,
        "referrals.rejected",
        until=lambda rs: any(v["reason"] == "undecodable" for v in _values(rs)),
    )
    assert any(v["reason"] == "undecodable" for v in _values(rejected))
    rid = referral_id_for("dev-school", "SCH-AFTER-JUNK")
    accepted = await read_topic(
        stack.broker.bootstrap, "referrals.accepted", until=lambda rs: len(_values(rs, rid)) >= 1
    )
    assert len(_values(accepted, rid)) == 1


async def test_invalid_json_over_http_is_answered_422_dead_lettered_and_audited(stack: Stack) -> None:
    """A body that is not JSON is refused as before, and recorded like invalid JSON produced onto the topic:
    a rejection with the raw body on referrals.rejected, and submitted + rejected audit events."""
    body = b'{"source": {"reference": "HTTP-NOT-JSON-1"}, oops'
    status, answer = await post_json(stack.url("intake") + "/v1/referrals", None, "dev-partner-police", raw=body)
    assert status == 422 and answer["error"] == "invalid_json"
    rejected = await read_topic(
        stack.broker.bootstrap,
        "referrals.rejected",
        until=lambda rs: any("HTTP-NOT-JSON-1" in v["raw_payload"]["excerpt"] for v in _values(rs)),
    )
    [record] = [v for v in _values(rejected) if "HTTP-NOT-JSON-1" in v["raw_payload"]["excerpt"]]
    assert (record["reason"], record["channel"], record["partner_id"]) == ("invalid_json", "http", "dev-police")
    assert record["raw_payload"]["excerpt"] == body.decode()
    assert record["raw_payload"]["length"] == len(body) and not record["raw_payload"]["truncated"]
    assert [e["code"] for e in record["errors"]] == ["json_invalid"]
    chain = f"intake:rejection-{record['submission_id']}"
    audit = await read_topic(
        stack.broker.bootstrap,
        "audit.events",
        until=lambda rs: any(v["chain"] == chain and v["action"] == "rejected" for v in _values(rs)),
    )
    events = [v for v in _values(audit) if v["chain"] == chain]
    assert [v["action"] for v in events] == ["submitted", "rejected"]
    assert all(v["actor"] == "dev-police" and "HTTP-NOT-JSON" not in json.dumps(v) for v in events)


@pytest.mark.parametrize(
    ("token", "body", "raw", "content_type", "status", "code"),
    [
        (None, submission(), None, "application/json", 401, "unauthorised"),
        ("not-a-token", submission(), None, "application/json", 401, "unauthorised"),
        ("dev-partner-hospital", submission(agency="police"), None, "application/json", 403, "wrong_partner"),
        ("dev-partner-police", None, b'{"pad": "' + b"x" * 70_000 + b'"}', "application/json", 413, "too_large"),
        ("dev-partner-police", None, b"<referral/>", "application/xml", 415, "unsupported_media_type"),
        ("dev-partner-police", submission(role="bystander"), None, "application/json", 422, "invalid_submission"),
        ("dev-partner-police", None, b"{not json", "application/json", 422, "invalid_json"),
    ],
)
async def test_http_refusals_have_the_documented_status_and_error_shape(
    stack: Stack, token: str | None, body: dict | None, raw: bytes | None, content_type: str, status: int, code: str
) -> None:
    """Each refusal of intake's HTTP contract answers its status with {"error", "detail", "errors"}."""
    got, answer = await post_json(
        stack.url("intake") + "/v1/referrals", body, token, raw=raw, content_type=content_type
    )
    assert got == status
    assert answer["error"] == code and isinstance(answer["detail"], str) and isinstance(answer["errors"], list)


async def test_validation_errors_name_the_field_and_never_echo_the_value(stack: Stack) -> None:
    """A 422 names `subject.gender` and the rule, but not the submitted text."""
    body = submission(subject__gender="Q" * 40 + "-echo-marker", role="echo-marker-role")
    status, answer = await post_json(stack.url("intake") + "/v1/referrals", body, "dev-partner-police")
    assert status == 422
    assert {"subject.gender", "role"} <= {e["loc"] for e in answer["errors"]}
    assert "echo-marker" not in json.dumps(answer)


async def test_unexpected_field_names_reach_no_answer_log_or_audit_event(stack: Stack) -> None:
    """Names of unexpected fields are partner input: the 422, the dead letter's errors, the audit events and
    the log say how many and where. Only the restricted raw excerpt keeps them."""
    body = submission(reference="EXTRA-NAMES-1")
    body["subject"] = {**body["subject"], "zephyrine_marchbanks": "x", "quillfeather_1987": "y"}
    status, answer = await post_json(stack.url("intake") + "/v1/referrals", body, "dev-partner-police")
    assert status == 422
    assert {"loc": "subject", "code": "extra_forbidden", "message": "2 unexpected fields in subject"} in answer[
        "errors"
    ]
    rejected = await read_topic(
        stack.broker.bootstrap,
        "referrals.rejected",
        until=lambda rs: any("EXTRA-NAMES-1" in v["raw_payload"]["excerpt"] for v in _values(rs)),
    )
    [record] = [v for v in _values(rejected) if "EXTRA-NAMES-1" in v["raw_payload"]["excerpt"]]
    chain = f"intake:rejection-{record['submission_id']}"
    audit = await read_topic(
        stack.broker.bootstrap,
        "audit.events",
        until=lambda rs: any(v["chain"] == chain and v["action"] == "rejected" for v in _values(rs)),
    )
    events = [v for v in _values(audit) if v["chain"] == chain]
    logs = (stack.workdir / "logs" / "intake.log").read_text()
    for text in (json.dumps(answer), json.dumps(record["errors"]), json.dumps(events), logs):
        assert "zephyrine" not in text and "quillfeather" not in text
    assert "zephyrine_marchbanks" in record["raw_payload"]["excerpt"]


async def test_partner_over_its_rate_limit_gets_429(stack: Stack) -> None:
    """A partner allowed 2 a minute gets 429 with Retry-After on the third submission."""
    url = stack.url("intake") + "/v1/referrals"
    statuses = []
    for n in range(4):
        body = submission(agency="voluntary", reference=f"RL-{n}", source__system="slow-voluntary")
        statuses.append((await post_json(url, body, "slow-partner-token"))[0])
    assert statuses[:2] == [202, 202]
    assert 429 in statuses[2:]


async def test_no_personal_data_reaches_the_logs(stack: Stack) -> None:
    """Distinctive name, birth date, postcode, contact details and narrative appear in no log line."""
    url = stack.url("intake") + "/v1/referrals"
    body = distinctive_submission(reference="LEAK-1")
    assert (await post_json(url, body, "dev-partner-police"))[0] == 202
    assert (await post_json(url, body, "dev-partner-police"))[0] == 202
    bad = distinctive_submission(reference="LEAK-2")
    bad["role"] = "nobody"
    assert (await post_json(url, bad, "dev-partner-police"))[0] == 422
    await produce(stack.broker.bootstrap, "referrals.submitted", orjson.dumps(bad))
    rid = referral_id_for("dev-police", "LEAK-1")
    await read_topic(
        stack.broker.bootstrap,
        "audit.events",
        settle=1.0,
        until=lambda rs: any(v["action"] == "duplicate" for v in _values(rs, rid)),
    )
    logs = (stack.workdir / "logs" / "intake.log").read_text()
    assert "referral_admitted" in logs and "submission_rejected" in logs
    for value in DISTINCTIVE.values():
        assert value not in logs, f"personal value leaked into the intake log: {value[:3]}..."
