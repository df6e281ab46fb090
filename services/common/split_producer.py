"""A Faust producer that batches ordinary topics and writes table changelogs one record per batch.

On the embedded broker (Tansu) a partition's reported end offset is the first offset of its last write
batch + 1, and Faust's table recovery reads a changelog only up to that figure: with several
records per batch the newest table writes would be lost at a worker restart. One record per batch fixes
that, but applied to every topic it made each send to a partition wait a full round trip for the one
before (the throughput analysis in `docs/benchmarks.md`). Only changelogs are read that way, so only they
need it: this producer keeps a second aiokafka producer with `max_batch_size=1` for the app's changelog
topics and sends everything else through Faust's normal, batching one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, cast

import aiokafka
from aiokafka.structs import RecordMetadata
from faust.types.core import HeadersArg

from services.common.confirmed_producer import ConfirmingProducer

SINGLE_RECORD_BATCH = 1
"""Bytes: smaller than any record, so each batch holds exactly one."""


class SplitProducer(ConfirmingProducer):
    """Installed by `services.common.faust_app` for the embedded broker only; sends are confirmed as in its base."""

    _changelog_producer: aiokafka.AIOKafkaProducer | None = None
    _changelogs: frozenset[str] = frozenset()

    def _is_changelog(self, topic: str) -> bool:
        return topic in self._changelogs

    async def on_start(self) -> None:
        await super().on_start()
        # Tables are declared when the app is built, before it starts (Faust builds this set on each call).
        self._changelogs = frozenset(self.app.tables.changelog_topics)
        settings: Mapping[str, Any] = {
            **self._settings_default(),
            **self._settings_auth(),
            **self._settings_extra(),
            "max_batch_size": SINGLE_RECORD_BATCH,
        }
        self._changelog_producer = aiokafka.AIOKafkaProducer(**settings)
        self.beacon.add(self._changelog_producer)
        await self._changelog_producer.start()

    async def on_stop(self) -> None:
        await super().on_stop()
        producer, self._changelog_producer = self._changelog_producer, None
        if producer is not None:
            await producer.stop()

    async def _send_unconfirmed(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: HeadersArg | None,
        *,
        transactional_id: str | None = None,
    ) -> Awaitable[RecordMetadata]:
        if transactional_id or self._changelog_producer is None or not self._is_changelog(topic):
            return await super()._send_unconfirmed(
                topic, key, value, partition, timestamp, headers, transactional_id=transactional_id
            )
        self._send_on_produce_message(key=key, value=value, partition=partition, timestamp=timestamp, headers=headers)
        if isinstance(headers, Mapping):
            headers = list(headers.items())
        timestamp_ms = int(timestamp * 1000.0) if timestamp else None
        # A refusal raised here ends the worker in ConfirmingProducer.send, like any other send's.
        return cast(
            Awaitable[RecordMetadata],
            await self._changelog_producer.send(
                topic, value, key=key, partition=partition, timestamp_ms=timestamp_ms, headers=headers
            ),
        )
