"""The end state every fault test must reach: each referral routed exactly as decided, nothing lost, nothing
duplicated where the contract promises idempotency, and every redelivery counted."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from services.cli.stack import Stack
from tests.support.flow import eventually
from tests.support.http import get_json
from tests.support.kafka import read_topic
from tests.support.outbox import read_outbox
from tests.support.receivers import WebhookReceiver


@dataclass
class Outcomes:
    """What the system did, counted by id and by delivery."""

    referral_ids: set[str]
    assignments: dict[str, set[str]]
    accepted_deliveries: Counter[str] = field(default_factory=Counter)
    decision_deliveries: Counter[str] = field(default_factory=Counter)
    mail_deliveries: Counter[str] = field(default_factory=Counter)
    webhook_deliveries: Counter[str] = field(default_factory=Counter)
    told_deliveries: Counter[str] = field(default_factory=Counter)
    """The referrer's `triaged` outcome events on `referrals.outcomes`, by outcome id."""

    @property
    def redelivered(self) -> dict[str, int]:
        """Records delivered more than once with the same id (at-least-once; receivers de-duplicate by id)."""
        return {
            "referrals.accepted": sum(n - 1 for n in self.accepted_deliveries.values()),
            "triage.decisions": sum(n - 1 for n in self.decision_deliveries.values()),
            "e-mail": sum(n - 1 for n in self.mail_deliveries.values()),
            "webhook": sum(n - 1 for n in self.webhook_deliveries.values()),
            "referrals.outcomes": sum(n - 1 for n in self.told_deliveries.values()),
        }


def _initial_decisions(records: list) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for record in records:
        decision = json.loads(record.value)
        if decision["kind"] == "initial":
            found[decision["referral_id"]].add(decision["decision_id"])
    return found


async def routed_exactly_once(
    stack: Stack, expected: int, workdir: Path, timeout: float = 120.0, webhooks: WebhookReceiver | None = None
) -> Outcomes:
    """Wait for `expected` referrals to be accepted, decided, queued, notified and audited; assert that each
    has one decision, exactly its queue items, one notification id per assignment and channel (e-mail, and
    webhook where `webhooks` receives them for every service), one `triaged` outcome id per assignment for its
    referrer, a complete audit trail, and that the audit chains verify. Returns the counts, redeliveries included."""
    assert stack.broker is not None
    bootstrap = stack.broker.bootstrap

    def distinct_ids(records: list) -> set[str]:
        return {json.loads(r.value)["referral_id"] for r in records}

    accepted = await read_topic(
        bootstrap, "referrals.accepted", timeout=timeout, until=lambda rs: len(distinct_ids(rs)) >= expected, settle=1.0
    )
    referral_ids = distinct_ids(accepted)
    assert len(referral_ids) == expected, f"{expected - len(referral_ids)} referrals were never accepted"

    decisions = await read_topic(
        bootstrap,
        "triage.decisions",
        timeout=timeout,
        until=lambda rs: set(_initial_decisions(rs)) >= referral_ids,
        settle=1.0,
    )
    initial = _initial_decisions(decisions)
    undecided = sorted(referral_ids - set(initial))
    assert not undecided, f"{len(undecided)} referrals never decided, e.g. {undecided[:3]}"
    assert all(len(initial[rid]) == 1 for rid in referral_ids), "a referral got two different decisions"
    outcomes = Outcomes(referral_ids=referral_ids, assignments={})
    for record in accepted:
        outcomes.accepted_deliveries[json.loads(record.value)["referral_id"]] += 1
    for record in decisions:
        decision = json.loads(record.value)
        if decision["kind"] == "initial":
            outcomes.decision_deliveries[decision["decision_id"]] += 1
            outcomes.assignments[decision["referral_id"]] = {a["service"] for a in decision["assignments"]}

    expected_mails = {(rid, service) for rid, services in outcomes.assignments.items() for service in services}

    async def all_mailed() -> bool:
        return {(m.referral_id, m.service) for m in read_outbox(stack.outbox)} >= expected_mails

    try:
        await eventually(all_mailed, timeout=timeout, what="a notification for every assignment")
    except AssertionError as exc:
        missing = sorted(expected_mails - {(m.referral_id, m.service) for m in read_outbox(stack.outbox)})
        detail = f"{len(missing)} of {len(expected_mails)} never mailed, e.g. {missing[:3]}"
        raise AssertionError(f"{exc}: {detail}") from exc
    await asyncio.sleep(2.0)  # anything sent twice late would arrive now
    ids_per_assignment: dict[tuple[str, str], set[str]] = defaultdict(set)
    for mail in read_outbox(stack.outbox):
        ids_per_assignment[(mail.referral_id, mail.service)].add(mail.notification_id)
        outcomes.mail_deliveries[mail.notification_id] += 1
    assert set(ids_per_assignment) == expected_mails, "a notification went to a service with no assignment"
    twice = {key: ids for key, ids in ids_per_assignment.items() if len(ids) != 1}
    assert not twice, f"assignments notified under two different ids: {list(twice.items())[:3]}"
    if webhooks is not None:
        await _check_webhooks(webhooks, expected_mails, outcomes, timeout)
    await _check_referrer_told(bootstrap, expected_mails, outcomes, timeout)

    triage = stack.url("triage")
    for rid in sorted(referral_ids):
        services = outcomes.assignments[rid]

        async def trail_complete(rid: str = rid, services: set[str] = services) -> dict | None:
            status, body = await get_json(f"{triage}/v1/referrals/{rid}", "dev-manager")
            if status != 200:
                return None
            notified = {e["details"]["service"] for e in body["audit"] if e["action"] == "notified"}
            return body if notified >= services else None

        body = await eventually(trail_complete, timeout=30, what=f"the audit trail of {rid}")
        assert len([d for d in body["decisions"] if d["kind"] == "initial"]) == 1
        assert sorted(item["service"] for item in body["items"]) == sorted(services), f"queue items of {rid}"
        actions = Counter(event["action"] for event in body["audit"])
        assert actions["submitted"] >= 1 and actions["accepted"] == 1, f"intake's trail of {rid}: {actions}"
        assert actions["triaged"] == 1 and actions["queued"] == len(services), f"triage's trail of {rid}: {actions}"
        notified = Counter(
            (e["details"]["service"], e["details"]["channel"]) for e in body["audit"] if e["action"] == "notified"
        )
        assert {service for service, _ in notified} == services, f"notify's trail of {rid}: {notified}"
        assert set(notified.values()) == {1}, f"notify's trail of {rid} repeats a notification: {notified}"

    verify = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli.main",
        "audit",
        "verify",
        "--broker",
        bootstrap,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await verify.communicate()
    assert verify.returncode == 0, f"audit chains broken: {output.decode()[-2000:]}"
    logs = "".join(path.read_text() for path in (workdir / "logs").glob("*.log"))
    assert "offset_gap_skipped" not in logs, "a worker went on past messages it never processed"
    return outcomes


async def _check_referrer_told(
    bootstrap: str, expected: set[tuple[str, str]], outcomes: Outcomes, timeout: float
) -> None:
    """The referrer is told each assignment once: one `triaged` outcome id per referral and service, for
    exactly the assignments decided (a redelivery repeats the same id, which receivers de-duplicate on)."""

    def told(records: list) -> dict[tuple[str, str], set[str]]:
        found: dict[tuple[str, str], set[str]] = defaultdict(set)
        for record in records:
            outcome = json.loads(record.value)
            if outcome["kind"] == "triaged" and outcome["referral_id"] in outcomes.referral_ids:
                found[(outcome["referral_id"], outcome["service"])].add(outcome["outcome_id"])
        return found

    records = await read_topic(
        bootstrap, "referrals.outcomes", timeout=timeout, until=lambda rs: set(told(rs)) >= expected, settle=1.0
    )
    ids = told(records)
    missing = sorted(expected - set(ids))
    assert not missing, f"{len(missing)} assignments never told to their referrer, e.g. {missing[:3]}"
    assert set(ids) == expected, "the referrer was told of an assignment never decided"
    twice = {key: found for key, found in ids.items() if len(found) != 1}
    assert not twice, f"assignments told under two different outcome ids: {list(twice.items())[:3]}"
    for record in records:
        outcome = json.loads(record.value)
        if outcome["kind"] == "triaged" and outcome["referral_id"] in outcomes.referral_ids:
            outcomes.told_deliveries[outcome["outcome_id"]] += 1


async def _check_webhooks(
    webhooks: WebhookReceiver, expected: set[tuple[str, str]], outcomes: Outcomes, timeout: float
) -> None:
    def received() -> dict[tuple[str, str], set[str]]:
        found: dict[tuple[str, str], set[str]] = defaultdict(set)
        for request in webhooks.received:
            body = json.loads(request.body)
            if body["kind"] == "assignment":
                found[(body["referral_id"], body["service"])].add(request.headers["Idempotency-Key"])
        return found

    await eventually(
        lambda: asyncio.sleep(0, set(received()) >= expected), timeout=timeout, what="a webhook for every assignment"
    )
    ids = received()
    assert set(ids) == expected, "a webhook went to a service with no assignment"
    twice = {key: keys for key, keys in ids.items() if len(keys) != 1}
    assert not twice, f"assignments posted under two different idempotency keys: {list(twice.items())[:3]}"
    for request in webhooks.received:
        outcomes.webhook_deliveries[request.headers["Idempotency-Key"]] += 1
