"""An assignment to a service with no contact configured: nobody can be told, so notify says so (metric and
log line, for the SoSafeAssignmentUnreached alert), on the real broker with the real SMTP sink."""

from __future__ import annotations

import asyncio
import email
from collections.abc import Iterator
from datetime import UTC, datetime

import aiohttp
import pytest

from schemas.codec import encode
from schemas.vocabulary import Service
from services.cli.stack import Stack
from tests.support.config import ROOT
from tests.support.flow import eventually
from tests.support.kafka import produce
from tests.support.metrics import sample_value
from tests.triage.decision_factory import decision

pytestmark = pytest.mark.integration

REFERRAL_ID = "5b0f3d0e-7a43-5c8e-9a0b-00000000e001"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Notify alone, with the development routing less MNWG's contacts."""
    workdir = tmp_path_factory.mktemp("unreached")
    config = workdir / "access.yaml"
    text = (ROOT / "deploy" / "config" / "dev.yaml").read_text()
    config.write_text("\n".join(line for line in text.splitlines() if not line.startswith("    mnwg: ")) + "\n")
    started = Stack(workdir=workdir, services=("notify",), partitions=2, extra_env={"SOSAFE_CONFIG_FILE": str(config)})
    started.start()
    yield started
    started.stop()


async def unreached(stack: Stack, service: str) -> float:
    async with aiohttp.ClientSession() as session, session.get(stack.url("notify") + "/metrics") as response:
        return sample_value(await response.text(), "sosafe_notify_unreached_total", service=service, kind="assignment")


def mails_to(stack: Stack, address: str) -> list[email.message.Message]:
    messages = [email.message_from_bytes(p.read_bytes()) for p in stack.outbox.glob("*.eml")]
    return [m for m in messages if address in m["To"] and REFERRAL_ID in m.get_payload(decode=True).decode()]


async def test_an_assignment_no_contact_reaches_is_counted_and_logged_and_the_others_are_sent(stack: Stack) -> None:
    assert await unreached(stack, "mnwg") == 0
    routed = decision(Service.sada, Service.mnwg, referral_id=REFERRAL_ID, at=datetime.now(UTC))
    await produce(stack.broker.bootstrap, "triage.decisions", encode(routed), key=REFERRAL_ID.encode())
    await eventually(lambda: unreached(stack, "mnwg"), what="the unreached MNWG assignment counted")
    await eventually(
        lambda: asyncio.sleep(0, mails_to(stack, "referrals@sada.sosafe.example.org")), what="SADA's e-mail"
    )
    assert await unreached(stack, "mnwg") == 1
    assert await unreached(stack, "sada") == 0
    lines = [line for line in (stack.workdir / "logs" / "notify.log").read_text().splitlines() if "unreached" in line]
    assert len(lines) == 1 and '"service": "mnwg"' in lines[0] and '"kind": "assignment"' in lines[0]
