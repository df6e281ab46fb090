"""One baseline hop for `make bench`: copy every record of one topic to the next, with no logic.

`python -m bench.hop raw|raw-same|faust <in-topic> <out-topic> <group> <ready-file> <extra>` runs as its
own process, like a service worker. `raw` is a plain aiokafka consume-and-produce loop (the broker's ceiling);
`raw-same` is that loop also writing `<extra>` records (on average; a fraction carries over) per message onto
the side topic, so the baseline writes as many records per message as the system per referral;
`faust` is a bare Faust pass-through agent built with the services' own `make_app` (the framework's
floor, with the same consumer and producer the services use; it has no tables, so nothing is written
one record per batch).
Both write `<ready-file>` once their partitions are assigned. Settings come from the `SOSAFE_` environment.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from services.common.settings import CommonSettings


def mark_ready(path: Path) -> None:
    path.write_text("ready")


async def raw_hop(
    settings: CommonSettings, source: str, target: str, group: str, ready: Path, extra: float = 0.0
) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    from bench.baselines import SIDE_TOPIC
    from services.common.kafka_security import client_options

    consumer = AIOKafkaConsumer(
        source,
        **client_options(settings),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=True,
        session_timeout_ms=int(settings.session_timeout_s * 1000),
        heartbeat_interval_ms=int(settings.heartbeat_interval_s * 1000),
    )
    producer = AIOKafkaProducer(**client_options(settings), linger_ms=0)
    await producer.start()
    await consumer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)  # joins the group; nothing is produced before `ready`
        mark_ready(ready)
        owed = 0.0
        while True:
            batches = await consumer.getmany(timeout_ms=200, max_records=2000)
            pending = []
            for records in batches.values():
                for record in records:
                    owed += extra
                    while owed >= 1.0:
                        owed -= 1.0
                        pending.append(await producer.send(SIDE_TOPIC, record.value, key=record.key))
                    pending.append(await producer.send(target, record.value, key=record.key))
            if pending:
                await asyncio.gather(*pending)
    finally:
        await consumer.stop()
        await producer.stop()


def faust_hop(settings: CommonSettings, source: str, target: str, group: str, ready: Path) -> None:
    import faust
    from faust import Worker

    from services.common.broker import free_port
    from services.common.faust_app import make_app
    from services.common.observability import partitions_assigned

    app = make_app(group, settings, free_port())
    inbound = app.topic(source, key_serializer="raw", value_serializer="raw", partitions=settings.topic_partitions)
    outbound = app.topic(target, key_serializer="raw", value_serializer="raw", partitions=settings.topic_partitions)

    @app.agent(inbound, name="pass-through")
    async def pass_through(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await outbound.send(key=event.key, value=event.value)

    @app.task  # type: ignore[untyped-decorator]
    async def signal_ready() -> None:
        while partitions_assigned(app) == 0 or app.rebalancing:  # noqa: ASYNC110 - polls Faust's state
            await asyncio.sleep(0.1)
        mark_ready(ready)

    Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


def main(argv: list[str]) -> int:
    kind, source, target, group, ready, extra = argv
    settings = CommonSettings()
    if kind in ("raw", "raw-same"):
        asyncio.run(raw_hop(settings, source, target, group, Path(ready), float(extra)))
    else:
        faust_hop(settings, source, target, group, Path(ready))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
