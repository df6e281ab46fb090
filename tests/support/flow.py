"""Waiting for the system to reach a state, by polling its HTTP API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tests.support.http import get_json

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], timeout: float = 30.0, interval: float = 0.25, what: str = "condition"
) -> T:
    """The first truthy result of `probe()`, or AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await probe()
        if result:
            return result
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


async def queue_item(
    triage_url: str, service: str, referral_id: str, token: str, state: str = "all"
) -> dict[str, Any] | None:
    status, items = await get_json(f"{triage_url}/v1/queues/{service}?state={state}", token)
    if status != 200:
        return None
    return next((item for item in items if item["referral_id"] == referral_id), None)
