"""Workers killed at random moments lose and duplicate nothing, on the real embedded broker: every referral
is counted by id and by delivery, with intake, triage and notify all killed, some while recovering, and
triage and notify running two replicas each, so every kill and restart rebalances a worker that is busy."""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from datetime import UTC, datetime

import pytest

from schemas.vocabulary import Service
from services.cli.stack import Stack
from services.cli.synthetic import synthetic_submissions
from services.common.broker import free_port
from services.common.worker_exit import EXIT_STEP_UNCONFIRMED
from tests.support.config import access_with_webhooks
from tests.support.kafka import produce_steadily
from tests.support.outcomes import routed_exactly_once
from tests.support.receivers import WebhookReceiver

pytestmark = pytest.mark.integration

COUNT = 300
WORKERS = ("intake", "triage", "notify", "triage-2", "notify-2")
SERVICES_KILLED = {"intake", "triage", "notify"}


def restart(stack: Stack, name: str) -> None:
    """SIGKILL the worker `name` and start it again at once, as the same replica on the same port."""
    proc = stack.processes[name]
    proc.kill()
    stack.start_service(proc.service, False, name=name, port=proc.port)


async def chaos(stack: Stack, rng: random.Random, rounds: int) -> list[str]:
    """SIGKILL a worker drawn by `rng` at a moment drawn by `rng` and restart it at once; every third kill
    hits the restarted worker again while it is still recovering its tables and joining its group."""
    killed = []
    for n in range(rounds):
        await asyncio.sleep(rng.uniform(0.8, 2.5))
        name = WORKERS[n] if n < 3 else rng.choice(WORKERS)  # each service at least once
        await asyncio.to_thread(restart, stack, name)
        killed.append(name)
        if n % 3 == 2:
            await asyncio.sleep(rng.uniform(0.5, 4.0))
            await asyncio.to_thread(restart, stack, name)
            killed.append(f"{name} (recovering)")
    return killed


@pytest.mark.timeout(600)
async def test_killing_every_worker_repeatedly_loses_and_duplicates_nothing(tmp_path) -> None:
    """300 referrals while intake and two replicas each of triage and notify are SIGKILLed at seeded random
    moments (some while recovering): every referral is accepted once, has one decision, exactly its queue
    items, one e-mail id and one webhook idempotency key per assignment, a complete audit trail, and the
    chains verify."""
    seed = int(os.environ.get("SOSAFE_CRASH_SEED") or random.SystemRandom().randrange(1_000_000))
    print(f"crash test seed {seed} (rerun with SOSAFE_CRASH_SEED={seed})")
    receiver = WebhookReceiver()
    await receiver.start()
    services = tuple(s.value for s in Service)
    env = {
        "SOSAFE_CONFIG_FILE": str(access_with_webhooks(tmp_path / "access.yaml", receiver, services)),
        **{f"SOSAFE_WEBHOOK_SECRET_{s.upper()}": "crash-secret" for s in services},
    }
    exits: list[str] = []
    stack = Stack(workdir=tmp_path / "stack", partitions=4, extra_env=env, supervise=True, report=exits.append)
    await asyncio.to_thread(stack.start)
    try:
        assert stack.broker is not None
        for replica in ("triage", "notify"):
            await asyncio.to_thread(stack.start_service, replica, True, f"{replica}-2", free_port())
        bodies = list(synthetic_submissions(COUNT, seed, datetime.now(UTC), f"crash-{uuid.uuid4().hex[:6]}"))
        producing = produce_steadily(stack.broker.bootstrap, "referrals.submitted", bodies, 10, 0.5)
        killed, _ = await asyncio.gather(chaos(stack, random.Random(seed), 12), producing)
        assert {name.split()[0].removesuffix("-2") for name in killed} == SERVICES_KILLED, killed
        for name in WORKERS:
            await asyncio.to_thread(stack.processes[name].wait_ready, 90)
        outcomes = await routed_exactly_once(stack, COUNT, tmp_path / "stack", timeout=150, webhooks=receiver)
        print(f"killed {killed}; redelivered with the same ids: {outcomes.redelivered}")
        # A step caught by a rebalance may end its worker (code 75, `step_failed` in its log), which is the
        # designed answer: the supervisor restarts it and the message comes again. Anything else is a crash.
        crashed = [line for line in exits if " exited " in line and f"code {EXIT_STEP_UNCONFIRMED};" not in line]
        assert not crashed, f"workers crashed on their own: {crashed}"
        print(f"workers that ended a step they could not complete: {[e for e in exits if ' exited ' in e]}")
    finally:
        await asyncio.to_thread(stack.stop)
        await receiver.stop()
