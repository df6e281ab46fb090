"""A Faust consumer that delivers each partition's messages in unbroken offset order (at least once).

Faust 0.15.3's fetch loop (`Consumer._drain_messages`) loses messages around a rebalance or restart:

- A batch fetched before a seek (the seek to the committed offset after a rebalance) can still be yielded
  after it. Its first message looks like a jump forward, which Faust takes for compacted-away offsets (an
  "offset gap") and treats as acknowledged, so the next commit skips the range.
- The loop records "last offset read" after the agent took a message; when that message was from before
  the seek, it overwrites the seek's position, and the re-read messages below it are dropped as already
  read. Commits then stall until the next restart (faust-streaming issues #216, #221, #312, #606).

The crash test found both. This consumer keeps its own expected offset per partition, set by every seek
and advanced by every delivery (`OffsetSequencer`). A message below it is a duplicate and is dropped; a
message above it is dropped and the partition is sought back to the expected offset, so the range is
fetched again. Only when fresh fetches keep starting past the expected offset (the log no longer holds
it) is the jump believed, logged and counted. Two more rules close the windows around a rebalance: the
loop does not fetch while `perform_seek` runs, and a message of a batch fetched before a seek began is
dropped and its partition sought back to the expected offset (a stale message that happens to be the
partition's last would otherwise never be followed by the jump that reveals it). Partitions with no
commit are sought to their earliest offset explicitly, since aiokafka leaves their position alone.
Changelog partitions keep Faust's own handling: they are compacted, so gaps there are real.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast
from weakref import WeakKeyDictionary

from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP
from mode import Service
from prometheus_client import Counter

from services.common.logs import get_logger
from services.common.offset_sequence import OffsetSequencer, Verdict

log = get_logger("sosafe.consumer")

OUTCOMES = ("reread", "skipped")


YIELD_EVERY = 100
"""Messages between returns to the event loop, as in Faust's own loop."""


class ConsumerThread(aiokafka_driver.AIOKafkaConsumerThread):
    """Faust's consumer thread with the fetch wait of `SOSAFE_FETCH_MAX_WAIT_MS` (Faust fixes 1,500 ms)."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = _FETCH_MAX_WAIT_MS.get(self.app, consumer._fetch_max_wait_ms)
        return consumer


class ContiguousConsumer(aiokafka_driver.Consumer):
    """Faust's aiokafka consumer with an in-order fetch loop; installed by `services.common.faust_app`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sequencer: OffsetSequencer[TP] = OffsetSequencer()
        self._ordered_topics: dict[str, bool] = {}
        self.seeks = 0
        """Seeks begun so far: a batch fetched before the latest one began may hold positions it undid."""
        self.seeking = asyncio.Event()
        self.seeking.set()
        """Clear while `perform_seek` runs: the fetch loop waits, so it never fetches from half-set positions."""
        super().__init__(*args, **kwargs)

    @property
    def trace(self) -> bool:
        """Log every fetched stream message's offset and verdict (`SOSAFE_CONSUMER_TRACE`; off in production)."""
        return _TRACE.get(self.app, False)

    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def _ordered(self, tp: TP) -> bool:
        """Held to unbroken offset order: every acknowledged stream topic, not table changelogs."""
        ordered = self._ordered_topics.get(tp.topic)
        if ordered is None:  # topics are fixed once the app runs; Faust builds its changelog set per call
            ordered = not self._is_changelog_tp(tp) and bool(self.app.topics.acks_enabled_for(tp.topic))
            self._ordered_topics[tp.topic] = ordered
        return ordered

    async def seek(self, partition: TP, offset: int) -> None:
        self.seeks += 1
        await super().seek(partition, offset)
        self.sequencer.sought(partition, offset)
        if self.trace:
            log.info("consumer_trace_seek", topic=partition.topic, partition=partition.partition, offset=offset)

    async def perform_seek(self) -> None:
        """Seek every partition to its committed offset and expect exactly that offset next."""
        self.seeks += 1
        self.seeking.clear()
        try:
            await self._seek_to_committed()
        finally:
            self.seeking.set()

    async def _seek_to_committed(self) -> None:
        committed = await self.seek_to_committed()
        self._committed_offset.update({tp: off if off else None for tp, off in committed.items() if off is not None})
        # aiokafka leaves the position alone for a partition with no commit (or a commit of 0), so messages
        # fetched before the rebalance would carry on from there. Such a partition starts at its earliest
        # offset (consumer_auto_offset_reset="earliest"): seek it there explicitly.
        unknown = [tp for tp, off in committed.items() if not off and self._ordered(tp)]
        earliest: Mapping[TP, int] = await self.earliest_offsets(*unknown) if unknown else {}
        for tp, off in committed.items():
            if tp in earliest:
                await self.seek(tp, earliest[tp])
            else:
                self.sequencer.sought(tp, off if off is not None and off >= 0 else None)
        if self.trace:
            log.info(
                "consumer_trace_sought",
                offsets={
                    f"{tp.topic}:{tp.partition}": self.sequencer.expected(tp) for tp in committed if self._ordered(tp)
                },
            )
        self._prepare_counts({tp.topic for tp in committed if self._ordered(tp)})

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        for tp in revoked:
            self.sequencer.forget(tp)
        await super().on_partitions_revoked(revoked)

    async def _admit(self, tp: TP, offset: int) -> bool:
        """True if the message at `offset` is the partition's next; otherwise act on why not."""
        if not self._ordered(tp):
            return True
        expected = self.sequencer.expected(tp)
        verdict = self.sequencer.check(tp, offset)
        if self.trace:
            log.info(
                "consumer_trace",
                topic=tp.topic,
                partition=tp.partition,
                offset=offset,
                expected=expected,
                verdict=verdict.value,
            )
        if verdict is Verdict.RESEEK:
            log.warning("offset_jump_reread", topic=tp.topic, partition=tp.partition, expected=expected, offset=offset)
            self._count_jump(tp, "reread")
            await self.seek(tp, cast(int, expected))  # also marks the rest of this batch overtaken
        elif verdict is Verdict.SKIP_GAP:
            log.error("offset_gap_skipped", topic=tp.topic, partition=tp.partition, expected=expected, offset=offset)
            self._count_jump(tp, "skipped")
            await self._add_gap(tp, cast(int, expected), offset - 1)
        return verdict in (Verdict.DELIVER, Verdict.SKIP_GAP)

    async def _refetch(self, overtaken: set[TP]) -> None:
        """Seek partitions whose messages were dropped as overtaken back to the next expected offset."""
        if not overtaken:
            return
        await self.seeking.wait()
        assigned = self.assignment()
        for tp in overtaken:
            expected = self.sequencer.expected(tp)
            if tp in assigned and expected is not None:
                await self.seek(tp, expected)

    def _prepare_counts(self, topics: set[str]) -> None:
        """Create the counter's series at zero, so the first jump shows in `increase()`."""
        counted = _JUMP_COUNTERS.get(self.app)
        if counted is not None:
            counter, service = counted
            for topic in topics:
                for outcome in OUTCOMES:
                    counter.labels(service, topic, outcome)

    def _count_jump(self, tp: TP, outcome: str) -> None:
        counted = _JUMP_COUNTERS.get(self.app)
        if counted is not None:
            counter, service = counted
            counter.labels(service, tp.topic, outcome).inc()

    async def _drain_messages(self, fetcher: Service) -> None:  # type: ignore[override]
        """Faust's fetch loop with its read-offset bookkeeping replaced by `_admit`."""
        consumer_should_stop = cast(Service, self)._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        since_yield = 0
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                self.diag.set_flag(CONSUMER_FETCHING)
                await self.seeking.wait()
                seeks = self.seeks
                messages = self.getmany(timeout=1.0)
                await self.sleep(0)
                if not self.should_stop:
                    overtaken: set[TP] = set()
                    async for tp, message in messages:
                        since_yield += 1
                        if since_yield > YIELD_EVERY:
                            await asyncio.sleep(0)
                            since_yield = 0
                        if self.seeks != seeks and self._ordered(tp):
                            overtaken.add(tp)  # fetched before a seek: its positions may have been undone
                            continue
                        if not await self._admit(tp, message.offset):
                            continue
                        if self._commit_every is not None and self._n_acked >= self._commit_every:
                            self._n_acked = 0
                            await self.commit()
                        await self.wait_first(self.callback(message), self.suspend_flow.wait())
                    await self._refetch(overtaken)
                self.diag.unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            self.diag.unset_flag(CONSUMER_FETCHING)


_JUMP_COUNTERS: WeakKeyDictionary[Any, tuple[Counter, str]] = WeakKeyDictionary()


def count_offset_jumps(app: Any, counter: Counter, service: str) -> None:
    """Count `app`'s re-read and skipped jumps into `counter` (labels service, topic, outcome)."""
    _JUMP_COUNTERS[app] = (counter, service)


_FETCH_MAX_WAIT_MS: WeakKeyDictionary[Any, int] = WeakKeyDictionary()
_TRACE: WeakKeyDictionary[Any, bool] = WeakKeyDictionary()


def install(app: Any, fetch_max_wait_ms: int, trace: bool = False) -> None:
    """Make `app` create a `ContiguousConsumer` (call before the app's consumer is first used)."""
    app.transport.Consumer = ContiguousConsumer
    _FETCH_MAX_WAIT_MS[app] = fetch_max_wait_ms
    _TRACE[app] = trace
