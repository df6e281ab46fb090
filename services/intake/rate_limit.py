"""Per-partner rate limit: a token bucket per partner, refilled continuously (per intake replica)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """`allow(partner, limit_per_minute, now)` answers whether one more request fits; `now` is monotonic."""

    buckets: dict[str, _Bucket] = field(default_factory=dict)

    def allow(self, partner_id: str, limit_per_minute: int, now: float) -> bool:
        bucket = self.buckets.get(partner_id)
        if bucket is None:
            bucket = self.buckets[partner_id] = _Bucket(tokens=float(limit_per_minute), updated=now)
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
