"""Which fetched message a consumer may deliver next, per partition: pure bookkeeping, no I/O.

A partition's messages must reach the agents in unbroken offset order from the position the consumer last
sought (the committed offset after a rebalance). Faust 0.15.3 does not ensure that: a batch fetched before a
seek can still be yielded after it, and its "offset gap" logic then skips the range in between (see
`services/common/contiguous_consumer.py`). This sequencer decides, message by message, what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

Partition = TypeVar("Partition")

MAX_RESEEKS = 3
"""Re-reads of the same position, each from a fresh fetch, before a jump is believed (a truncated log)."""


class Verdict(Enum):
    DELIVER = "deliver"
    """The next message in order: process it."""
    DUPLICATE = "duplicate"
    """Already delivered since the last seek: drop it."""
    RESEEK = "reseek"
    """Past the expected offset: drop it and seek the partition back to the expected offset."""
    SKIP_GAP = "skip_gap"
    """Past the expected offset after repeated re-reads: the log no longer holds the range; deliver it."""


@dataclass(frozen=True)
class Reread:
    expected: int
    attempts: int


@dataclass
class OffsetSequencer(Generic[Partition]):
    """Expected next offset per partition; `None` until the consumer has sought it."""

    max_reseeks: int = MAX_RESEEKS

    def __post_init__(self) -> None:
        self._expected: dict[Partition, int | None] = {}
        self._rereads: dict[Partition, Reread] = {}

    def expected(self, tp: Partition) -> int | None:
        return self._expected.get(tp)

    def sought(self, tp: Partition, offset: int | None) -> None:
        """The consumer's position for `tp` is now `offset` (`None`: unknown, take what comes)."""
        self._expected[tp] = offset

    def forget(self, tp: Partition) -> None:
        """`tp` was revoked."""
        self._expected.pop(tp, None)
        self._rereads.pop(tp, None)

    def check(self, tp: Partition, offset: int) -> Verdict:
        """What to do with the message at `offset` of `tp`.

        After a RESEEK the caller must drop the rest of the batch it came in (the consumer drops every
        batch a seek overtook), so the next check of `tp` is of a fresh fetch: that counts as a re-read.
        """
        expected = self._expected.get(tp)
        if expected is None or offset == expected:
            return self._deliver(tp, offset)
        if offset < expected:
            return Verdict.DUPLICATE
        reread = self._rereads.get(tp)
        attempts = reread.attempts + 1 if reread is not None and reread.expected == expected else 1
        if attempts > self.max_reseeks:
            self._deliver(tp, offset)
            return Verdict.SKIP_GAP
        self._rereads[tp] = Reread(expected, attempts)
        return Verdict.RESEEK

    def _deliver(self, tp: Partition, offset: int) -> Verdict:
        self._expected[tp] = offset + 1
        self._rereads.pop(tp, None)
        return Verdict.DELIVER
