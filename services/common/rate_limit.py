"""A token bucket per caller, refilled continuously (per replica): intake's partners, triage's officers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """`allow(caller, limit_per_minute, now)` answers whether one more request fits; `now` is monotonic.

    One bucket per caller id: callers are the entries of the access file, so the buckets are bounded by it.
    """

    buckets: dict[str, _Bucket] = field(default_factory=dict)

    def allow(self, caller_id: str, limit_per_minute: int, now: float) -> bool:
        bucket = self.buckets.get(caller_id)
        if bucket is None:
            bucket = self.buckets[caller_id] = _Bucket(tokens=float(limit_per_minute), updated=now)
        rate = limit_per_minute / 60.0
        bucket.tokens = min(float(limit_per_minute), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def retry_after(self, limit_per_minute: int) -> int:
        """Seconds until one token is back."""
        return max(1, round(60 / limit_per_minute))
