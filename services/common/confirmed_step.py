"""The boundary of one message's step in an agent: it completes, or the message is not acknowledged.

Every agent wraps the work it does for one message in `confirmed_step(event)`. An exception that leaves a
step (a send the producer could not queue, a broker error, a bug the step did not turn into a dead letter)
ends the worker process before the message is acknowledged, instead of Faust's in-process agent restart,
which acknowledges it. A step cancelled because the worker is stopping keeps its message unacknowledged,
so the commit made on the way out stops before it (Faust would commit over one unacknowledged message if
later ones in its partition were acknowledged, so a cancellation while the worker is not stopping ends the
worker too). Either way the message is delivered again after the
restart, and the step, written to be replayed, sends what it had not sent.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import faust

from services.common.worker_exit import end_worker


def withhold_ack(event: faust.EventT[Any]) -> None:
    """Mark the message as acknowledged without telling the consumer, so its offset is never committed.

    Faust acknowledges the message when the stream moves on or closes, and skips one already marked;
    only the consumer's own record of acknowledged offsets feeds a commit.
    """
    event.message.acked = True


@contextmanager
def confirmed_step(event: faust.EventT[Any]) -> Iterator[None]:
    try:
        yield
    except asyncio.CancelledError:
        withhold_ack(event)
        if event.app.should_stop:
            raise
        _end(event, "CancelledError")  # a restarted agent would acknowledge the messages after this one
    except BaseException as exc:
        withhold_ack(event)
        _end(event, type(exc).__name__, _where(exc))


def _where(exc: BaseException) -> str | None:
    """The innermost frame that raised: file, line and function, never the message (it may quote values)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno} {frames[-1].name}" if frames else None


def _end(event: faust.EventT[Any], error_type: str, where: str | None = None) -> None:
    message = event.message
    end_worker(
        "step_failed",
        source_topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        error_type=error_type,
        where=where,
    )
