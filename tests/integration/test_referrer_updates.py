"""The referrer's side on the real embedded broker: new information re-decided as a follow-up with a new
deadline and a notification, withdrawal closing and marking items, another partner's referral 404, and
invalid bodies refused without echoing what was sent."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
import pytest_asyncio

from services.cli.stack import Stack
from tests.support.flow import eventually, queue_item
from tests.support.http import get_json, post_json
from tests.support.payloads import DISTINCTIVE, submission

pytestmark = pytest.mark.integration

SECRET_VALUE = "Addendum-marker-5c1e"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    started = Stack(workdir=tmp_path_factory.mktemp("updates"), partitions=2)
    await asyncio.to_thread(started.start)
    yield started
    await asyncio.to_thread(started.stop)


async def submit_and_queue(stack: Stack, service: str, **overrides: object) -> tuple[str, dict]:
    status, answer = await post_json(
        stack.url("intake") + "/v1/referrals", submission(**overrides), "dev-partner-police"
    )
    assert status == 202, answer
    referral_id = answer["referral_id"]
    item = await eventually(
        lambda: queue_item(stack.url("triage"), service, referral_id, "dev-manager", "open"), what=f"the {service} item"
    )
    return referral_id, item


async def post_update(stack: Stack, referral_id: str, kind: str, body: object, token: str = "dev-partner-police"):
    return await post_json(f"{stack.url('intake')}/v1/referrals/{referral_id}/{kind}", body, token)


def mails_about(stack: Stack, referral_id: str) -> list[email.message.Message]:
    messages = [email.message_from_bytes(p.read_bytes()) for p in stack.outbox.glob("*.eml")]
    return [m for m in messages if referral_id in m.get_payload(decode=True).decode()]


def mail_subjects(stack: Stack, referral_id: str) -> list[str]:
    return [str(m["Subject"]) for m in mails_about(stack, referral_id)]


@pytest.mark.asyncio(loop_scope="module")
async def test_raised_risk_gives_a_follow_up_decision_new_deadline_and_notification(stack: Stack) -> None:
    referral_id, before = await submit_and_queue(
        stack, "sada", reference="UPD-RISK-1", risk={"dash_score": 4, "level": "standard", "immediate_danger": False}
    )
    assert before["priority"] == "medium"
    status, answer = await post_update(
        stack,
        referral_id,
        "updates",
        {"schema_version": "1", "risk": {"level": "high"}, "narrative_addendum": "Perpetrator released on bail."},
    )
    assert status == 202 and answer["status"] == "received" and answer["update_id"]
    triage = stack.url("triage")

    async def raised() -> dict | None:
        item = await queue_item(triage, "sada", referral_id, "dev-officer-sada", "open")
        return item if item and item["priority"] == "high" else None

    item = await eventually(raised, what="SADA's item raised to high")
    assert datetime.fromisoformat(item["due_at"]) < datetime.fromisoformat(before["due_at"])
    assert datetime.fromisoformat(item["due_at"]) - datetime.fromisoformat(before["due_at"]) < timedelta(hours=-40)
    status, body = await get_json(f"{triage}/v1/referrals/{referral_id}", "dev-officer-sada")
    assert status == 200
    follow_ups = [d for d in body["decisions"] if d["kind"] == "follow_up"]
    assert len(follow_ups) == 1 and follow_ups[0]["caused_by"] == answer["update_id"]
    actions = [e["action"] for e in body["audit"]]
    assert "information_added" in actions
    subjects = await eventually(
        lambda: asyncio.sleep(0, [s for s in mail_subjects(stack, referral_id) if "NEW INFORMATION" in s]),
        what="the new-information e-mail",
    )
    assert subjects and "HIGH" in subjects[0]


@pytest.mark.asyncio(loop_scope="module")
async def test_withdrawal_closes_open_items_and_marks_accepted_ones(stack: Stack) -> None:
    referral_id, _ = await submit_and_queue(
        stack,
        "sada",
        reference="UPD-WD-1",
        concerns=["domestic_abuse", "hate_crime"],
        **{f"subject__{field}": DISTINCTIVE[field] for field in ("given_name", "family_name", "postcode", "phone")},
        narrative=DISTINCTIVE["narrative"],
    )
    triage = stack.url("triage")
    await eventually(
        lambda: queue_item(triage, "hate_crime", referral_id, "dev-manager", "open"), what="the hate crime item"
    )
    url = f"{triage}/v1/queues/sada/items/{referral_id}"
    assert (await post_json(f"{url}/claim", {}, "dev-officer-sada"))[0] == 200
    assert (await post_json(f"{url}/accept", {}, "dev-officer-sada"))[0] == 200
    status, _ = await post_update(stack, referral_id, "withdraw", {"schema_version": "1", "reason": "support_in_place"})
    assert status == 202

    async def closed() -> dict | None:
        item = await queue_item(triage, "hate_crime", referral_id, "dev-manager")
        return item if item and item["state"] == "closed" else None

    hate = await eventually(closed, what="the hate crime item closed")
    assert hate["final_reason"] == "withdrawn_by_referrer" and hate["withdrawn"] is True
    sada = await queue_item(triage, "sada", referral_id, "dev-manager")
    assert sada is not None and sada["state"] == "accepted" and sada["withdrawn"] is True
    _, body = await get_json(f"{triage}/v1/referrals/{referral_id}", "dev-manager")
    withdrawn = [e for e in body["audit"] if e["action"] == "withdrawn"]
    assert len(withdrawn) == 1 and withdrawn[0]["details"]["services_marked"] == ["sada"]

    async def told_withdrawn() -> dict | None:
        status, seen = await get_json(f"{triage}/v1/referrals/{referral_id}", "dev-partner-police")
        shown = {a["service"]: a for a in seen["assignments"]} if status == 200 else {}
        wanted = {"sada", "hate_crime"}
        return shown if all(shown.get(s, {}).get("state") == "withdrawn" for s in wanted) else None

    # The referring partner sees its withdrawal in its status: each assignment withdrawn, with its reason.
    shown = await eventually(told_withdrawn, what="the partner to see its assignments withdrawn")
    assert {shown[s]["reason_code"] for s in ("sada", "hate_crime")} == {"support_in_place"}

    # SADA's team, which had accepted it, is told once; hate crime's item was closed, so its team is not. The
    # two outcomes are one step's, on one partition, hate crime's first: once SADA's e-mail is in, notify has
    # handled both.
    def withdrawn_mails() -> list[email.message.Message]:
        return [m for m in mails_about(stack, referral_id) if str(m["Subject"]).startswith("[SoSafe] WITHDRAWN")]

    mails = await eventually(lambda: asyncio.sleep(0, withdrawn_mails() or None), what="SADA's withdrawal e-mail")
    assert [str(m["To"]) for m in mails] == ["referrals@sada.sosafe.example.org"]
    text = mails[0].get_payload(decode=True).decode()
    assert "withdrawn by the referrer" in text and "Withdrawal reason: support_in_place" in text
    assert f"referral_id={referral_id}" in text and "service=sada" in text
    whole = mails[0].as_string()
    assert not [value for value in DISTINCTIVE.values() if value in whole]


@pytest.mark.asyncio(loop_scope="module")
async def test_another_partners_referral_is_404_and_invalid_bodies_are_422_without_values(stack: Stack) -> None:
    referral_id, _ = await submit_and_queue(stack, "sada", reference="UPD-OWN-1")
    for kind, body in (
        ("updates", {"schema_version": "1", "safe_to_contact": False}),
        ("withdraw", {"schema_version": "1", "reason": "other"}),
    ):
        status, answer = await post_update(stack, referral_id, kind, body, "dev-partner-hospital")
        assert status == 404 and answer["error"] == "unknown_referral"
        status, _ = await post_update(stack, "00000000-0000-5000-8000-000000000000", kind, body)
        assert status == 404
    for body in (
        {"schema_version": "1"},
        {"schema_version": "1", "risk": {"level": SECRET_VALUE}},
        {"schema_version": "1", SECRET_VALUE: SECRET_VALUE},
        {"schema_version": "1", "narrative_addendum": SECRET_VALUE * 2000},
    ):
        status, answer = await post_update(stack, referral_id, "updates", body)
        assert status == 422 and answer["error"] == "invalid_update" and answer["errors"], answer
        assert SECRET_VALUE not in str(answer)
    status, answer = await post_update(stack, referral_id, "withdraw", {"schema_version": "1", "reason": SECRET_VALUE})
    assert status == 422 and SECRET_VALUE not in str(answer)
    status, _ = await post_update(stack, referral_id, "updates", {"schema_version": "1"}, token=None)  # type: ignore[arg-type]
    assert status == 401
