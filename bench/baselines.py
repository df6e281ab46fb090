"""The baselines of `make bench`, each on a fresh embedded broker: three pass-through hops over four
topics, with no logic, as separate processes like the services. `raw` is plain aiokafka consume-and-produce
(the broker's ceiling); `raw-same` is the same loop writing, besides each forwarded record, enough extra
records onto `bench.side` that every message costs as many records as a referral costs the system
(`records_per_referral`); `faust` is a bare Faust agent per hop with the services' app settings (the
framework's floor). Messages are the same bare submission JSON the Kafka path carries."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.procstat import peak_rss_mb
from services.common.broker import EmbeddedBroker, create_topics
from services.common.settings import REPO_ROOT

HOP_TOPICS = tuple(f"bench.hop.{n}" for n in range(4))
SIDE_TOPIC = "bench.side"
"""Where `raw-same` hops write their extra records (nobody reads them, as nobody but the read model and
the auditors reads most of the system's audit events and changelogs)."""


def extra_per_hop(records_per_message: float) -> float:
    """Extra records each of the three hops writes per message so that a message costs `records_per_message`
    records in all: its first record, three forwarded ones, and the extras."""
    return max(0.0, (records_per_message - len(HOP_TOPICS)) / (len(HOP_TOPICS) - 1))


@dataclass(frozen=True)
class BaselineResult:
    kind: str
    count: int
    seconds: float
    rss_mb: dict[str, float]

    @property
    def per_s(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


async def _count_arrivals(bootstrap: str, topic: str, count: int, timeout: float) -> float:
    """Seconds from now until `count` records have reached `topic` (inf on timeout)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    seen = 0
    try:
        deadline = time.monotonic() + timeout
        while seen < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=100, max_records=10_000)
            seen += sum(len(records) for records in batches.values())
        return time.time() if seen >= count else float("inf")
    finally:
        await consumer.stop()


async def _drive(bootstrap: str, bodies: list[bytes], timeout: float) -> float:
    """Produce every body onto the first hop topic at full speed; seconds until all reach the last."""
    watcher = asyncio.create_task(_count_arrivals(bootstrap, HOP_TOPICS[-1], len(bodies), timeout))
    await asyncio.sleep(0.5)  # the watcher's consumer is connected before the clock starts
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    try:
        started = time.time()
        pending = [await producer.send(HOP_TOPICS[0], body) for body in bodies]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return await watcher - started


def run_baseline(
    kind: str,
    workdir: Path,
    bodies: list[bytes],
    partitions: int,
    extra_env: dict[str, str] | None = None,
    timeout: float = 600.0,
    records_per_message: float = float(len(HOP_TOPICS)),
) -> BaselineResult:
    """Three `bench.hop` processes of `kind` on a fresh broker; the time to carry every body across."""
    workdir.mkdir(parents=True, exist_ok=True)
    broker = EmbeddedBroker(log_path=workdir / "broker.log")
    broker.start()
    hops: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        asyncio.run(create_topics(broker.bootstrap, partitions, (*HOP_TOPICS, SIDE_TOPIC)))
        env = {
            **os.environ,
            "SOSAFE_BROKER_URL": broker.url,
            "SOSAFE_EMBEDDED_BROKER": "true",
            "SOSAFE_TOPIC_PARTITIONS": str(partitions),
            "SOSAFE_DATA_DIR": str(workdir / "data"),
            # `bench` is not installed: the hops find it at the repository root, wherever this was started.
            "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO_ROOT), os.environ.get("PYTHONPATH")))),
            **(extra_env or {}),
        }
        ready_files = []
        for n in range(3):
            ready = workdir / f"hop{n}.ready"
            ready.unlink(missing_ok=True)
            ready_files.append(ready)
            log = open(workdir / f"hop{n}.log", "ab")  # noqa: SIM115 - closed below
            logs.append(log)
            hops.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and module
                    [
                        sys.executable,
                        "-m",
                        "bench.hop",
                        kind,
                        HOP_TOPICS[n],
                        HOP_TOPICS[n + 1],
                        f"bench-{kind}-hop{n}",
                        str(ready),
                        str(extra_per_hop(records_per_message) if kind == "raw-same" else 0.0),
                    ],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + 60
        while not all(ready.exists() for ready in ready_files):
            if time.monotonic() > deadline or any(hop.poll() is not None for hop in hops):
                raise RuntimeError(f"{kind} baseline hops did not start (see {workdir}/hop*.log)")
            time.sleep(0.1)
        seconds = asyncio.run(_drive(broker.bootstrap, bodies, timeout))
        rss = {f"hop{n}": peak_rss_mb(hop.pid) for n, hop in enumerate(hops)}
        return BaselineResult(kind, len(bodies), seconds, rss)
    finally:
        for hop in hops:
            hop.terminate()
        for hop in hops:
            try:
                hop.wait(15)
            except subprocess.TimeoutExpired:
                hop.kill()
                hop.wait(5)
        for log in logs:
            log.close()
        broker.stop()
