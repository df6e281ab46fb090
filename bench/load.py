"""Load and observation for `make bench`: submit referrals (Kafka or HTTP) and see them notified.

A referral counts as notified when notify has put one `notified` audit event on `audit.events` for each
assignment of its initial decision on `triage.decisions`; its notification time is the `occurred_at` of
the last of those events (notify's clock, taken right after the SMTP server accepted the mail).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.identity import referral_id_for
from services.cli.synthetic import synthetic_submissions
from services.common import topics


@dataclass(frozen=True)
class Submission:
    referral_id: str
    agency: str
    body: bytes


def submissions(count: int, run: str, seed: int = 2021) -> list[Submission]:
    """`count` synthetic bare submissions, serialised once up front so the load generator stays cheap."""
    found = []
    for body in synthetic_submissions(count, seed, datetime.now(UTC), run):
        source = body["source"]
        found.append(
            Submission(referral_id_for(source["system"], source["reference"]), source["agency"], orjson.dumps(body))
        )
    return found


STALL_S = 120.0
"""A phase with no newly notified referral for this long is over."""


@dataclass
class NotifiedTracker:
    """Reads `triage.decisions` and `audit.events` from the start and records when each referral was
    fully notified (wall-clock seconds)."""

    bootstrap: str
    expected: dict[str, int] = field(default_factory=dict)
    notified: Counter[str] = field(default_factory=Counter)
    last_sent: dict[str, float] = field(default_factory=dict)
    done_at: dict[str, float] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            topics.DECISIONS,
            topics.AUDIT,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        self._task = asyncio.create_task(self._run(consumer))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=100, max_records=10_000)
                for tp, records in batches.items():
                    for record in records:
                        self._observe(tp.topic, orjson.loads(record.value))
        finally:
            await consumer.stop()

    def _observe(self, topic: str, value: dict[str, Any]) -> None:
        referral_id = value.get("referral_id")
        if not referral_id:
            return
        if topic == topics.DECISIONS:
            if value.get("kind") != "initial":
                return
            self.expected[referral_id] = len(value.get("assignments") or ())
        elif value.get("action") == "notified" and value.get("emitted_by") == "notify":
            self.notified[referral_id] += 1
            sent = datetime.fromisoformat(value["occurred_at"]).timestamp()
            self.last_sent[referral_id] = max(sent, self.last_sent.get(referral_id, 0.0))
        else:
            return
        wanted = self.expected.get(referral_id)
        if wanted is not None and referral_id not in self.done_at and self.notified[referral_id] >= wanted:
            self.done_at[referral_id] = self.last_sent.get(referral_id, time.time())

    def count_done(self, ids: list[str]) -> int:
        return sum(1 for referral_id in ids if referral_id in self.done_at)

    async def wait_for(self, ids: list[str], timeout: float, label: str, stall_s: float = STALL_S) -> bool:
        """True once every id is notified; prints progress every 10 s; False on timeout, or when no referral
        was notified for `stall_s` (the run is then recorded as incomplete rather than waited out)."""
        deadline = time.monotonic() + timeout
        next_report = time.monotonic() + 10
        last_done, last_progress = -1, time.monotonic()
        while time.monotonic() < deadline:
            done = self.count_done(ids)
            if done == len(ids):
                return True
            now = time.monotonic()
            if done != last_done:
                last_done, last_progress = done, now
            elif now - last_progress > stall_s:
                print(f"  {label}: no progress for {stall_s:.0f} s at {done}/{len(ids)}; giving up", flush=True)
                return False
            if now >= next_report:
                print(f"  {label}: {done}/{len(ids)} notified", flush=True)
                next_report += 10
            await asyncio.sleep(0.2)
        return False


async def produce_direct(bootstrap: str, items: list[Submission], rate: float | None = None) -> dict[str, float]:
    """Bare submission JSON onto `referrals.submitted` with no key (as a partner producer may), as fast as
    the producer takes it or paced at `rate` per second. Returns each referral's send time."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    sent_at: dict[str, float] = {}
    pending = []
    try:
        started = time.perf_counter()
        for n, item in enumerate(items):
            if rate is not None:
                delay = started + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            sent_at[item.referral_id] = time.time()
            pending.append(await producer.send(topics.SUBMITTED, item.body))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent_at


@dataclass
class HttpResult:
    statuses: Counter[int]
    seconds: float
    sent_at: dict[str, float]

    @property
    def accepted(self) -> int:
        return self.statuses.get(202, 0)


async def post_http(intake_url: str, items: list[Submission], concurrency: int) -> HttpResult:
    """POST every submission to intake with `concurrency` clients sharing one connection pool."""
    queue: asyncio.Queue[Submission] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    statuses: Counter[int] = Counter()
    sent_at: dict[str, float] = {}
    url = f"{intake_url}/v1/referrals"

    async def client(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            item = queue.get_nowait()
            headers = {"Authorization": f"Bearer dev-partner-{item.agency}", "Content-Type": "application/json"}
            sent_at[item.referral_id] = time.time()
            async with session.post(url, data=item.body, headers=headers) as response:
                await response.read()
                statuses[response.status] += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    return HttpResult(statuses, time.perf_counter() - started, sent_at)
