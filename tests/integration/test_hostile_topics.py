"""Any bytes on referrals.submitted or triage.actions end with exactly one outcome each, found by the message's
position (topic, partition, offset): nothing lost, nothing doubled, never a stuck partition."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from pydantic import ValidationError

from schemas.action import OfficerAction
from schemas.envelope import SubmissionEnvelope
from services.cli.stack import Stack
from services.intake.admission import submission_id_for_offset
from tests.support.flow import eventually, queue_item
from tests.support.hostile_messages import (
    KNOWN_REFERRALS,
    UNKNOWN_OFFICER,
    batches,
    hostile,
    well_formed_actions,
    well_formed_submissions,
)
from tests.support.http import post_json
from tests.support.kafka import produce_batch, read_topic
from tests.support.payloads import submission

pytestmark = pytest.mark.integration

EXAMPLES = 15
ACTION_OUTCOMES = {"officer_action_answered", "message_for_unknown_referral", "action_from_unknown_officer"}
"""Triage's log events for a well-formed action: applied or refused, or set aside with a warning."""
NO_SHRINKING = (Phase.explicit, Phase.reuse, Phase.generate)
"""Each example runs against one long-lived stack whose state it changes, so a replay is not the same run and
shrinking takes minutes without converging; a failure names the message's position and what it got."""


@dataclass(frozen=True)
class Sent:
    """A message as the broker acknowledged it."""

    partition: int
    offset: int
    raw: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = Stack(workdir=tmp_path_factory.mktemp("hostile-topics"), services=("intake", "triage"), partitions=2)
    started.start()
    yield started
    started.stop()


def values(records: list) -> list[dict[str, Any]]:
    return [json.loads(record.value) for record in records]


async def send(stack: Stack, topic: str, messages: list[tuple[bytes | None, bytes]]) -> list[Sent]:
    assert stack.broker is not None
    acknowledged = await produce_batch(stack.broker.bootstrap, topic, messages)
    return [Sent(ack.partition, ack.offset, raw) for ack, (_, raw) in zip(acknowledged, messages, strict=True)]


async def refer(stack: Stack) -> str:
    """A valid referral, sent right behind the hostile messages; its id."""
    status, answer = await post_json(
        stack.url("intake") + "/v1/referrals", submission(agency="college"), "dev-partner-college"
    )
    assert status == 202, answer
    return str(answer["referral_id"])


async def still_routes(stack: Stack, referral_id: str, what: str) -> None:
    """The referral is queued: the partitions behind the hostile messages are not stuck."""
    await eventually(lambda: queue_item(stack.url("triage"), "sada", referral_id, "dev-manager"), what=what)


def submission_ids(message: Sent) -> set[str]:
    """Every submission id intake may give the message: its position (unreadable, or not from a partner),
    the id derived from the position (a bare submission), or the envelope's own."""
    ids = {
        f"referrals.submitted:{message.partition}:{message.offset}",
        submission_id_for_offset("referrals.submitted", message.partition, message.offset),
    }
    with contextlib.suppress(ValidationError):
        ids.add(SubmissionEnvelope.model_validate_json(message.raw).submission_id)
    return ids


def intake_outcomes(events: list[dict[str, Any]], ids: set[str]) -> list[dict[str, Any]]:
    return sorted(
        (e for e in events if e["emitted_by"] == "intake" and (e.get("details") or {}).get("submission_id") in ids),
        key=lambda e: (e["chain"], e["seq"]),
    )


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), phases=NO_SHRINKING)
@given(batch=batches(hostile | well_formed_submissions.map(orjson.dumps)))
def test_any_bytes_on_referrals_submitted_end_accepted_or_rejected(stack: Stack, batch: list[bytes]) -> None:
    """Every message gets exactly one outcome, found by its position: one rejection on referrals.rejected with
    its length and SHA-256, one accepted referral, or a duplicate of one; audited as submitted, then that
    outcome; and a valid referral after the batch still goes through."""

    async def run() -> None:
        assert stack.broker is not None
        bootstrap = stack.broker.bootstrap
        sent = await send(stack, "referrals.submitted", [(None, raw) for raw in batch])
        behind = await refer(stack)
        ids = {message: submission_ids(message) for message in sent}

        def all_answered(records: list) -> bool:
            answered = {
                (e.get("details") or {}).get("submission_id")
                for e in values(records)
                if e["emitted_by"] == "intake" and e["action"] in {"accepted", "duplicate", "rejected"}
            }
            return all(answered & message_ids for message_ids in ids.values())

        audit = values(await read_topic(bootstrap, "audit.events", timeout=60, until=all_answered, settle=0.5))
        outcome = {m: intake_outcomes(audit, ids[m])[-1]["action"] for m in sent if intake_outcomes(audit, ids[m])}
        assert len(outcome) == len(sent), f"{len(sent) - len(outcome)} of {len(sent)} messages have no outcome"
        expected = {kind: sum(1 for o in outcome.values() if o == kind) for kind in ("accepted", "rejected")}
        everything = set().union(*ids.values())

        async def read_found(topic: str, kind: str) -> list[dict[str, Any]]:
            def found(records: list) -> list[dict[str, Any]]:
                return [v for v in values(records) if v["submission_id"] in everything]

            records = await read_topic(bootstrap, topic, timeout=30, until=lambda rs: len(found(rs)) >= expected[kind])
            return found(records)

        rejected, accepted = await asyncio.gather(
            read_found("referrals.rejected", "rejected"), read_found("referrals.accepted", "accepted")
        )
        for message in sent:
            events = intake_outcomes(audit, ids[message])
            where = f"referrals.submitted[{message.partition}]@{message.offset} ({outcome[message]})"
            assert [e["action"] for e in events] == ["submitted", outcome[message]], f"{where}: {events}"
            rejections = [r for r in rejected if r["submission_id"] in ids[message]]
            referrals = [r for r in accepted if r["submission_id"] in ids[message]]
            if outcome[message] == "rejected":
                assert len(rejections) == 1 and not referrals, f"{where}: {len(rejections)} rejections, {referrals}"
                raw = rejections[0]["raw_payload"]
                assert (raw["length"], raw["sha256"]) == (len(message.raw), message.sha256), where
                assert events[-1]["details"]["raw_sha256"] == message.sha256, where
            else:
                assert not rejections, f"{where}: also rejected"
                assert len(referrals) == (outcome[message] == "accepted"), f"{where}: {len(referrals)} referrals"
            if outcome[message] == "duplicate":
                first = [
                    e for e in audit if e["action"] == "accepted" and e["referral_id"] == events[-1]["referral_id"]
                ]
                assert len(first) == 1, f"{where}: a duplicate of a referral accepted {len(first)} times"
        await still_routes(stack, behind, "the valid referral queued after the hostile batch")

    asyncio.run(run())
    assert stack.processes["intake"].alive() and stack.processes["triage"].alive()


@pytest.fixture(scope="module")
def known_referrals(stack: Stack) -> tuple[str, ...]:
    async def submit() -> None:
        for n, referral_id in enumerate(KNOWN_REFERRALS):
            body = submission(agency="college", reference=f"HOSTILE-ACTIONS-{n}")
            status, answer = await post_json(stack.url("intake") + "/v1/referrals", body, "dev-partner-college")
            assert status == 202 and answer["referral_id"] == referral_id, answer
            await eventually(
                lambda rid=referral_id: queue_item(stack.url("triage"), "sada", rid, "dev-manager"),
                what="a referral for the actions to act on",
            )

    asyncio.run(submit())
    return KNOWN_REFERRALS


def as_action(raw: bytes) -> OfficerAction | None:
    try:
        return OfficerAction.model_validate_json(raw)
    except ValidationError:
        return None


def key_for(raw: bytes) -> bytes:
    """Keyed like a partner's action, by its referral id, wherever the message names one."""
    try:
        value = json.loads(raw)
    except ValueError:
        return b"hostile"
    referral_id = value.get("referral_id") if isinstance(value, dict) else None
    return referral_id.encode() if isinstance(referral_id, str) else b"hostile"


def logged_outcomes(log: Path) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """Triage's log events that answer an action, by the action's partition and offset."""
    found: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for line in log.read_text().split("\n")[:-1]:  # the last part is a line still being written, or empty
        if '"triage.actions"' not in line:
            continue
        event = json.loads(line)
        if event.get("event") in ACTION_OUTCOMES and event.get("topic") == "triage.actions":
            found[(event["partition"], event["offset"])].append(event)
    return found


def check_answer(
    where: str, action: OfficerAction, answer: dict[str, Any], audit: list[dict[str, Any]], known: tuple[str, ...]
) -> None:
    """Triage answered a well-formed action as its referral and officer allow, and audited it only if applied."""
    if answer["event"] == "message_for_unknown_referral":
        assert action.referral_id not in known, f"{where}: its referral is known"
        return
    assert action.referral_id in known, f"{where}: {answer['event']} for an unknown referral"
    if answer["event"] == "action_from_unknown_officer":
        assert action.officer_id == UNKNOWN_OFFICER, f"{where}: {action.officer_id} is an officer"
        return
    assert action.officer_id != UNKNOWN_OFFICER, f"{where}: answered for an unknown officer"
    audited = {
        (e["chain"], e["seq"])
        for e in audit
        if e["emitted_by"] == "triage"
        and e["referral_id"] == action.referral_id
        and (e.get("details") or {}).get("action_id") == action.action_id
    }
    if answer["outcome"] == "applied":
        assert len(audited) == 1, f"{where}: an applied action audited {len(audited)} times"
    else:
        assert not audited, f"{where}: a refused action was audited"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), phases=NO_SHRINKING)
@given(batch=batches(hostile | well_formed_actions.map(orjson.dumps)))
def test_any_bytes_on_triage_actions_are_applied_or_dead_lettered(
    stack: Stack, known_referrals: tuple[str, ...], batch: list[bytes]
) -> None:
    """Every message gets exactly one outcome, found by its position: a message that is not an officer
    action has one dead letter on messages.dead (with its length and SHA-256) and one dead_lettered audit
    event; an action is answered once (applied and audited once by its action id, or refused, or warned
    about when its referral is unknown); and the case agent keeps working."""

    async def run() -> None:
        assert stack.broker is not None
        bootstrap = stack.broker.bootstrap
        sent = await send(stack, "triage.actions", [(key_for(raw), raw) for raw in batch])
        behind = await refer(stack)
        actions = {message: as_action(message.raw) for message in sent}
        invalid = {(m.partition, m.offset) for m in sent if actions[m] is None}
        log = stack.workdir / "logs" / "triage.log"

        def dead_here(records: list) -> list[dict[str, Any]]:
            return [
                d
                for d in values(records)
                if d["topic"] == "triage.actions"
                and (d["partition"], d["offset"]) in {(m.partition, m.offset) for m in sent}
            ]

        dead = dead_here(
            await read_topic(
                bootstrap,
                "messages.dead",
                timeout=60,
                settle=0.5,
                until=lambda rs: {(d["partition"], d["offset"]) for d in dead_here(rs)} >= invalid,
            )
        )
        answered = {(m.partition, m.offset) for m in sent if actions[m] is not None}
        await eventually(
            lambda: asyncio.to_thread(lambda: set(logged_outcomes(log)) >= answered),
            what="triage's answer to every well-formed action",
        )
        logged = logged_outcomes(log)
        chains = {f"triage:dead-letter:triage.actions:{partition}:{offset}" for partition, offset in invalid}
        applied = {
            (a.referral_id, a.action_id)
            for m, a in actions.items()
            if a is not None and any(e.get("outcome") == "applied" for e in logged.get((m.partition, m.offset), []))
        }

        def audited(records: list) -> bool:
            events = values(records)
            return {e["chain"] for e in events} >= chains and {
                (e["referral_id"], (e.get("details") or {}).get("action_id"))
                for e in events
                if e["emitted_by"] == "triage"
            } >= applied

        audit = values(await read_topic(bootstrap, "audit.events", timeout=30, until=audited))
        logged = await asyncio.to_thread(logged_outcomes, log)  # again: an answer given twice shows by now
        for message in sent:
            where = f"triage.actions[{message.partition}]@{message.offset}"
            letters = [d for d in dead if (d["partition"], d["offset"]) == (message.partition, message.offset)]
            answers = logged.get((message.partition, message.offset), [])
            assert len(letters) + len(answers) == 1, f"{where}: {len(letters)} dead letters, answers {answers}"
            action = actions[message]
            if action is None:
                [letter] = letters
                assert letter["service"] == "triage" and letter["reason"] == "invalid_message", where
                assert (letter["raw"]["length"], letter["raw"]["sha256"]) == (len(message.raw), message.sha256)
                chain = f"triage:dead-letter:triage.actions:{message.partition}:{message.offset}"
                assert [e["action"] for e in audit if e["chain"] == chain] == ["dead_lettered"], where
            else:
                [answer] = answers  # a well-formed action is never dead-lettered
                check_answer(where, action, answer, audit, known_referrals)
        await still_routes(stack, behind, "a referral queued after the hostile actions")

    asyncio.run(run())
    assert stack.processes["triage"].alive()
