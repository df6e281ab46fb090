"""The what-if replay over the read model: reads the period's routing facts (and the subjects' earlier
referrals within the repeat window) and compares the live ruleset with a candidate. Used by `sosafe rules
diff`, the console's what-if page and the benchmark."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from services.triage.read.queries import ReadModel
from services.triage.routing.replay import Diff, compare
from services.triage.routing.ruleset import Ruleset


async def replay_diff(model: ReadModel, live: Ruleset, candidate: Ruleset, since: datetime, until: datetime) -> Diff:
    """Replay the referrals accepted in [since, until) under `live` and `candidate`. The replay is CPU work
    (seconds for 100,000 varied referrals, `rules_diff_100k_s`): it runs in a thread, so a worker's event loop, which
    answers the broker's heartbeats, keeps running."""
    window = timedelta(
        days=max(live.overrides.repeat_referral.within_days, candidate.overrides.repeat_referral.within_days)
    )
    everyone = await model.routing_facts(since - window, until)
    period = [r for r in everyone if r.accepted_at >= since]
    return await asyncio.to_thread(compare, period, everyone, live, candidate)
