"""A Faust producer that lets no offset be committed over a send the broker did not acknowledge.

Faust flushes its producer before it commits offsets, but aiokafka's flush only waits: a batch that failed
(the broker unreachable past the request timeout, a record refused) is logged and forgotten, and the input
offset is committed anyway. This producer tracks every send (agent outputs, audit events, table
changelogs, all of which pass through `send`) until the broker answers. A failed send ends the worker at
once (`worker_exit.end_worker`), and `flush`, which Faust awaits before each commit, returns only when every
send made so far is acknowledged, so a commit can only cover messages whose outputs are all on the broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any
from weakref import WeakKeyDictionary

from aiokafka.errors import KafkaTimeoutError
from aiokafka.structs import RecordMetadata
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types.core import HeadersArg

from services.common.send_faults import SendFaults
from services.common.worker_exit import end_worker

_FAULTS: WeakKeyDictionary[Any, SendFaults] = WeakKeyDictionary()


class ConfirmingProducer(aiokafka_driver.Producer):
    """Installed by `services.common.faust_app` for every service."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unconfirmed: dict[asyncio.Future[Any], str] = {}

    async def send(
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
        faults = _FAULTS.get(self.app)
        if faults is not None and faults.should_fail(topic):
            failed: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
            failed.set_exception(KafkaTimeoutError("injected send failure"))
            return self._confirm(failed, topic)
        try:
            pending = await self._send_unconfirmed(
                topic, key, value, partition, timestamp, headers, transactional_id=transactional_id
            )
        except Exception as exc:  # refused before it was queued (too large, producer stopped): same verdict
            end_worker("send_refused", topic=topic, error_type=type(exc).__name__)
        return self._confirm(asyncio.ensure_future(pending), topic)

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
        """Queue the record and return the future the broker's answer resolves (subclasses pick the client)."""
        return await super().send(topic, key, value, partition, timestamp, headers, transactional_id=transactional_id)

    def _confirm(self, pending: asyncio.Future[Any], topic: str) -> asyncio.Future[Any]:
        self._unconfirmed[pending] = topic
        pending.add_done_callback(self._on_answer)
        return pending

    def _on_answer(self, pending: asyncio.Future[Any]) -> None:
        topic = self._unconfirmed.pop(pending, "?")
        if pending.cancelled():
            end_worker("send_unconfirmed", topic=topic, error_type="CancelledError")
        exc = pending.exception()
        if exc is not None:
            end_worker("send_unconfirmed", topic=topic, error_type=type(exc).__name__)

    async def flush(self) -> None:
        """Wait until every send so far is acknowledged (a failure ends the worker before this returns)."""
        await super().flush()  # also hands Faust's buffered changelog writes to `send`
        # Only sends made so far: a commit covers offsets acknowledged before it began, and waiting for
        # sends that later steps keep making would starve commits under steady load.
        pending = list(self._unconfirmed)
        if pending:
            await asyncio.wait(pending)


def install(app: Any, producer: type[ConfirmingProducer], faults: SendFaults | None) -> None:
    """Make `app` create `producer` (call before the app's producer is first used)."""
    app.transport.Producer = producer
    if faults is not None:
        _FAULTS[app] = faults
