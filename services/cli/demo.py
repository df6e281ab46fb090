"""`sosafe demo`: post synthetic referrals through intake with the dev tokens, so the queues fill."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import aiohttp

from services.cli.synthetic import synthetic_submissions


async def post_all(bodies: list[dict[str, Any]], intake_url: str, concurrency: int = 8) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            token = f"dev-partner-{body['source']['agency']}"
            async with session.post(
                f"{intake_url}/v1/referrals", json=body, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                answer = await response.json(content_type=None)
                outcomes[answer.get("status") if response.status == 202 else f"http {response.status}"] += 1

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return outcomes


def run_demo(count: int, intake_url: str, seed: int) -> int:
    run = f"demo-{uuid.uuid4().hex[:6]}"
    bodies = list(synthetic_submissions(count, seed, datetime.now(UTC), run))
    try:
        outcomes = asyncio.run(post_all(bodies, intake_url))
    except (aiohttp.ClientError, OSError) as exc:
        print(f"sosafe demo: cannot reach intake at {intake_url}: {exc}. Is `make run` running?", file=sys.stderr)
        return 1
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
    print(f"Posted {count} synthetic referrals ({run}): {summary}.")
    print("List a queue:  curl -s -H 'Authorization: Bearer dev-officer-sada' http://127.0.0.1:8002/v1/queues/sada")
    return 0 if all(k in ("accepted", "duplicate") for k in outcomes) else 1
