"""A one-agent Faust worker that drives a rebalance between a fetch and its delivery (the fetch-loop test).

Run as `python -m tests.support.seek_race_worker` with `SOSAFE_*` settings and these `SEEK_RACE_*` ones:
`TOPIC` (one partition), `OUT` (each offset the agent takes is appended there, one a line), `HOLD` and
`STALE` (offsets, HOLD < STALE), `WEB_PORT`, and `FETCH_LOOP=faust` to put Faust's own fetch loop back.
The app is built by `services.common.faust_app.make_app`, which installs our consumer; only this test
worker can undo that, and the consumer it uses either way is the one `install` chose, with a hook that
holds one fetched batch back.

The interleaving, the same on every run:

1. The test produces the records below STALE. The agent takes HOLD and waits; the records before it are
   acknowledged and committed (offset HOLD). HOLD+1 .. STALE-1 wait in the agent's queue.
2. The test produces STALE onwards. The first fetched batch that holds them is kept from the fetch loop
   while the group rebalances for real (this member rejoins through the broker): Faust clears the agent's
   queue, seeks the partition back to its committed offset, HOLD, and resumes the flow.
3. Then the agent is let go and the batch, fetched before the seek, reaches the fetch loop after it.

A correct loop fetches again from HOLD, so the agent takes HOLD+1 .. STALE-1 before anything past them.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import faust
from faust import Worker
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP

from services.common.faust_app import make_app
from services.common.logs import configure_logging
from services.common.settings import CommonSettings

POLL_S = 0.05


def build(settings: CommonSettings, env: dict[str, str], web_port: int) -> faust.App:
    topic_name, out = env["SEEK_RACE_TOPIC"], env["SEEK_RACE_OUT"]
    hold, stale = int(env["SEEK_RACE_HOLD"]), int(env["SEEK_RACE_STALE"])
    app = make_app("seek-race", settings, web_port)
    if env.get("SEEK_RACE_FETCH_LOOP") == "faust":
        app.transport.Consumer = aiokafka_driver.Consumer
    tp = TP(topic_name, 0)
    holding, released = asyncio.Event(), asyncio.Event()
    topic = app.topic(topic_name, partitions=1, key_type=bytes, value_type=bytes)

    @app.agent(topic)
    async def record(stream: Any) -> None:
        async for event in stream.events():
            with open(out, "a") as file:
                file.write(f"{event.message.offset}\n")
            if event.message.offset == hold and not released.is_set():
                holding.set()
                await released.wait()

    base = app.transport.Consumer

    class HeldFetchConsumer(base):  # type: ignore[valid-type, misc]
        """Whichever consumer the app would use, holding the first batch that reaches `STALE` until a
        rebalance has finished: the batch was fetched before the rebalance's seek and is handed over after it."""

        async def _getmany(self, active_partitions: Any, timeout: float) -> Any:
            records = await super()._getmany(active_partitions, timeout)
            fetched = [record.offset for batch in records.values() for record in batch]
            if not released.is_set() and any(offset >= stale for offset in fetched):
                await holding.wait()
                await _commit(app, tp, hold)
                await _rebalance(app)
                released.set()
            return records

    app.transport.Consumer = HeldFetchConsumer
    return app


async def _commit(app: faust.App, tp: TP, offset: int) -> None:
    """Commit until the group's offset for `tp` is `offset` (every record before the held one is acked)."""
    while app.consumer._committed_offset.get(tp) != offset:  # type: ignore[attr-defined]
        await app.consumer.commit()
        await asyncio.sleep(POLL_S)


async def _rebalance(app: faust.App) -> None:
    """Make this member rejoin its group through the broker and wait until the rebalance has finished
    (rebalance begun and ended, partitions sought to their committed offsets, flow resumed)."""
    count = app.rebalancing_count
    thread = app.consumer._thread  # type: ignore[attr-defined]
    coordinator = thread._ensure_consumer()._coordinator
    thread.thread_loop.call_soon_threadsafe(coordinator.request_rejoin)
    while app.rebalancing_count == count or app.rebalancing or not app.flow_control.is_active():
        await asyncio.sleep(POLL_S)


def main() -> None:
    settings = CommonSettings()
    configure_logging(settings.log_level, "seek-race")
    app = build(settings, dict(os.environ), int(os.environ["SEEK_RACE_WEB_PORT"]))
    Worker(app, loglevel=settings.log_level, override_logging=False, quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
