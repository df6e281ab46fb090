"""A hung broker does not hang partners: intake answers 503 with Retry-After within its publish timeout, and
every referral a partner got 202 for is queued at triage exactly once (issue 10, item 3)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiokafka.structs import ConsumerRecord

from services.cli.stack import Stack
from tests.support.http import get_json, post_json
from tests.support.kafka import read_topic
from tests.support.metrics import sample_value
from tests.support.payloads import submission

pytestmark = pytest.mark.integration

PUBLISH_TIMEOUT_S = 3.0
MARGIN_S = 2.0
"""Bound on every answer: the publish timeout plus room for a busy 2-core machine. Not a speed benchmark."""
PAUSE_S = 30.0
WARM_UP_S = 3.0
POST_INTERVAL_S = 0.8
RETRY_DEADLINE_S = 60.0
PARTNERS = ("police", "hospital", "gp", "council")


@dataclass(frozen=True)
class Answer:
    referral_id: str | None
    reference: str
    started: float
    elapsed: float
    status: int
    retry_after: str | None
    error: str | None


@dataclass
class Partner:
    """A partner's system: posts distinct referrals, keeps the ones answered 503 to send again."""

    agency: str
    url: str
    answers: list[Answer] = field(default_factory=list)
    to_retry: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def token(self) -> str:
        return f"dev-partner-{self.agency}"

    async def post(self, session: aiohttp.ClientSession, reference: str, body: dict[str, Any]) -> Answer:
        started = time.monotonic()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        try:
            async with session.post(self.url, data=json.dumps(body), headers=headers) as response:
                payload = await response.json(content_type=None)
                status, retry_after = response.status, response.headers.get("Retry-After")
        except (TimeoutError, aiohttp.ClientError):  # no answer within the client's 30 s, or intake is gone
            payload, status, retry_after = {}, 0, None
        answer = Answer(
            payload.get("referral_id"),
            reference,
            started,
            time.monotonic() - started,
            status,
            retry_after,
            payload.get("error"),
        )
        self.answers.append(answer)
        if status == 202:
            self.to_retry.pop(reference, None)
        else:
            self.to_retry[reference] = body
        return answer

    async def keep_posting(self, session: aiohttp.ClientSession, until: float) -> None:
        n = 0
        while time.monotonic() < until:
            n += 1
            reference = f"PAUSE-{self.agency}-{n}"
            await self.post(session, reference, submission(self.agency, reference))
            await asyncio.sleep(POST_INTERVAL_S)

    async def retry_refused(self, session: aiohttp.ClientSession, deadline: float) -> None:
        """Send each refused referral again after its Retry-After until it is answered 202."""
        while self.to_retry and time.monotonic() < deadline:
            reference, body = next(iter(self.to_retry.items()))
            answer = await self.post(session, reference, body)
            if answer.status != 202:
                await asyncio.sleep(float(answer.retry_after or 1))


def worker_report(stack: Stack, workdir: Path) -> str:
    """Which workers are alive, and the last lines of each log that mention an error: for the failure message."""
    lines = []
    for name, proc in stack.processes.items():
        code = proc.process.poll() if proc.process is not None else "stopped"
        lines.append(f"{name}: {'alive' if proc.alive() else f'exited ({code})'}")
        log = workdir / "logs" / f"{name}.log"
        errors = (
            [
                line
                for line in log.read_text(errors="replace").splitlines()
                if "error" in line.lower() or "exception" in line.lower()
            ]
            if log.exists()
            else []
        )
        lines.extend(f"  {line[:300]}" for line in errors[-8:])
    return "\n".join(lines)


@pytest.mark.timeout(240)
async def test_partners_get_503_within_the_timeout_while_the_broker_is_paused_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    """Four partners post through a 30 s SIGSTOP of the broker: no answer takes longer than the publish
    timeout plus a margin, answers during the pause are 503 with Retry-After, retried referrals are all
    answered 202 after SIGCONT, and each 202'd referral is accepted once and queued at triage once."""
    stack = Stack(workdir=tmp_path, partitions=2, extra_env={"SOSAFE_PUBLISH_TIMEOUT_S": str(PUBLISH_TIMEOUT_S)})
    await asyncio.to_thread(stack.start)
    assert stack.broker is not None and stack.broker.process is not None
    broker_pid = stack.broker.process.pid
    paused = False
    try:
        url = stack.url("intake") + "/v1/referrals"
        partners = [Partner(agency, url) for agency in PARTNERS]
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            posting_until = time.monotonic() + WARM_UP_S + PAUSE_S + WARM_UP_S
            posting = asyncio.gather(*(p.keep_posting(session, posting_until) for p in partners))
            await asyncio.sleep(WARM_UP_S)
            os.kill(broker_pid, signal.SIGSTOP)
            paused, pause_started = True, time.monotonic()
            await asyncio.sleep(1.0)
            invalid = submission("police", "PAUSE-INVALID", risk__dash_score="high")
            status, body = await post_json(url, invalid, "dev-partner-police")
            assert (status, body["error"]) == (503, "broker_unavailable"), (
                "an invalid referral was refused as invalid before its dead letter was recorded"
            )
            await asyncio.sleep(PAUSE_S - (time.monotonic() - pause_started))
            os.kill(broker_pid, signal.SIGCONT)
            paused, pause_ended = False, time.monotonic()
            await posting
            deadline = time.monotonic() + RETRY_DEADLINE_S
            await asyncio.gather(*(p.retry_refused(session, deadline) for p in partners))
            status, body = await post_json(url, invalid, "dev-partner-police")
            assert (status, body["error"]) == (422, "invalid_submission"), (status, body)

        answers = [a for p in partners for a in p.answers]
        slowest = max(answers, key=lambda a: a.elapsed)
        assert slowest.elapsed <= PUBLISH_TIMEOUT_S + MARGIN_S, (
            f"an answer took {slowest.elapsed:.1f} s (status {slowest.status}); the bound is "
            f"{PUBLISH_TIMEOUT_S + MARGIN_S:.0f} s"
        )
        assert {a.status for a in answers} <= {202, 503}, Counter(a.status for a in answers)
        during = [a for a in answers if a.started >= pause_started and a.started + a.elapsed <= pause_ended]
        assert len(during) >= 2 * len(PARTNERS), f"only {len(during)} answers fell inside the pause"
        assert all(a.status == 503 and a.error == "broker_unavailable" for a in during), Counter(
            (a.status, a.error) for a in during
        )
        refused = [a for a in answers if a.status == 503]
        assert all(a.retry_after and int(a.retry_after) >= 1 for a in refused)
        unanswered = [ref for p in partners for ref in p.to_retry]
        assert not unanswered, (
            f"{len(unanswered)} referrals never answered 202 within {RETRY_DEADLINE_S:.0f} s "
            f"of SIGCONT, e.g. {unanswered[:3]}\n{worker_report(stack, tmp_path)}"
        )

        _, metrics = await get_json(stack.url("intake") + "/metrics")
        counted = sample_value(metrics, "sosafe_intake_http_responses_total", status="503")
        assert counted == len(refused) + 1, "every 503, the invalid referral's too, is counted once"

        referral_ids = {a.referral_id for a in answers if a.status == 202 and a.referral_id}
        assert len(referral_ids) == len({(a.reference) for a in answers}), "a referral got two different ids"
        await assert_accepted_and_queued_once(stack, referral_ids, tmp_path)
    finally:
        if paused:
            os.kill(broker_pid, signal.SIGCONT)
        await asyncio.to_thread(stack.stop)


async def assert_accepted_and_queued_once(stack: Stack, referral_ids: set[str], workdir: Path) -> None:
    """Each referral once on `referrals.accepted`, one initial decision, and one queue item per assigned
    service in the officers' queues; the failure message says whether a worker died."""
    assert stack.broker is not None
    bootstrap = stack.broker.bootstrap

    def accepted_ids(records: list[ConsumerRecord]) -> Counter[str]:
        return Counter(json.loads(r.value)["referral_id"] for r in records)

    accepted = accepted_ids(
        await read_topic(
            bootstrap,
            "referrals.accepted",
            timeout=60,
            settle=2.0,
            until=lambda rs: set(accepted_ids(rs)) >= referral_ids,
        )
    )
    missing = referral_ids - set(accepted)
    assert not missing, (
        f"{len(missing)} referrals answered 202 never reached referrals.accepted\n{worker_report(stack, workdir)}"
    )
    assert all(accepted[rid] == 1 for rid in referral_ids), "a referral was accepted twice"

    def assignments(records: list[ConsumerRecord]) -> dict[str, list[set[str]]]:
        found: dict[str, list[set[str]]] = defaultdict(list)
        for record in records:
            decision = json.loads(record.value)
            if decision["kind"] == "initial":
                found[decision["referral_id"]].append({a["service"] for a in decision["assignments"]})
        return found

    decided = assignments(
        await read_topic(
            bootstrap, "triage.decisions", timeout=60, settle=2.0, until=lambda rs: set(assignments(rs)) >= referral_ids
        )
    )
    undecided = referral_ids - set(decided)
    assert not undecided, f"{len(undecided)} accepted referrals were never triaged\n{worker_report(stack, workdir)}"
    assert all(len(decided[rid]) == 1 for rid in referral_ids), "a referral was triaged twice"

    expected = Counter({(rid, service): 1 for rid in referral_ids for service in decided[rid][0]})

    async def queued_items() -> Counter[tuple[str, str]]:
        queued: Counter[tuple[str, str]] = Counter()
        for service in sorted({service for _, service in expected}):
            status, items = await get_json(f"{stack.url('triage')}/v1/queues/{service}?state=all", "dev-manager")
            assert status == 200, (status, items)
            queued.update((item["referral_id"], service) for item in items if item["referral_id"] in referral_ids)
        return queued

    deadline = time.monotonic() + 30
    while (queued := await queued_items()) != expected and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
    assert queued == expected, (
        f"queue items differ from the decisions: missing "
        f"{sorted(expected - queued)[:3]}, extra {sorted(queued - expected)[:3]}\n"
        f"{worker_report(stack, workdir)}"
    )
