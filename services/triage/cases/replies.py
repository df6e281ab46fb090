"""Answers to officer actions, handed from the case agent back to the waiting HTTP request."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from services.triage.cases.queue import ActionOutcome


@dataclass
class PendingReplies:
    """One future per action id, created by the view before it publishes the action."""

    waiting: dict[str, asyncio.Future[ActionOutcome]] = field(default_factory=dict)

    def expect(self, action_id: str) -> asyncio.Future[ActionOutcome]:
        future: asyncio.Future[ActionOutcome] = asyncio.get_running_loop().create_future()
        self.waiting[action_id] = future
        return future

    def resolve(self, outcome: ActionOutcome) -> None:
        future = self.waiting.pop(outcome.action_id, None)
        if future is not None and not future.done():
            future.set_result(outcome)

    def forget(self, action_id: str) -> None:
        self.waiting.pop(action_id, None)
