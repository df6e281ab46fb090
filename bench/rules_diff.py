"""`rules_diff_100k_s`: the what-if replay (`sosafe rules diff`) of 100,000 referrals' routing facts.

A fresh SQLite read model (migrated as triage migrates it) is filled through SQL with what the projector
writes to `routing_facts` for each accepted referral: the synthetic submissions of `sosafe demo` (every
scenario, every ninth a repeat of an earlier person, keyed subject hashes), accepted over 90 days. The demo
scenarios alone give only a few distinct sets of facts, and the replay routes each set once per ruleset, so
each referral's age, district, risk, DASH score, children and consent are varied at random (seeded) to give
the replay as many distinct referrals as a real quarter would. What is
timed is what `sosafe rules diff` does once the rulesets are loaded: read the period's facts (and the repeat
window before it) and replay them under the default ruleset and a candidate that changes one rule (`asb`
at medium instead of standard). No broker is needed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import shutil
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from schemas.identity import subject_key_for
from schemas.submission import ReferralSubmission
from schemas.vocabulary import District, RiskLevel
from services.cli.synthetic import synthetic_submissions
from services.triage.read.database import migrate, open_engine
from services.triage.read.queries import ReadModel
from services.triage.read.replay_input import replay_diff
from services.triage.read.tables import routing_facts
from services.triage.routing.conditions import Facts, facts_of
from services.triage.routing.replay import facts_json
from services.triage.routing.ruleset import DEFAULT_RULESET_PATH, load_ruleset, parse_ruleset

REFERRALS = 100_000
PERIOD = timedelta(days=90)
CHANGED_RULE = ("  - id: asb\n", "    priority: standard\n", "    priority: medium\n")
_KEY = b"bench-subject-key"


def candidate_text() -> str:
    """The default ruleset with one rule changed: `asb` routes at medium rather than standard."""
    text = DEFAULT_RULESET_PATH.read_text()
    rule_id, old, new = CHANGED_RULE
    start = text.index(rule_id)
    at = text.index(old, start)
    return text[:at] + new + text[at + len(old) :]


def varied(facts: Facts, rng: random.Random) -> Facts:
    """`facts` with the details a real referral varies in drawn at random (concerns, role, agency kept)."""
    return dataclasses.replace(
        facts,
        age=None if facts.age is None else max(0, min(95, facts.age + rng.randint(-8, 8))),
        district=rng.choice(list(District)),
        risk_level=rng.choice(list(RiskLevel)),
        dash_score=None if facts.dash_score is None and rng.random() < 0.7 else rng.randint(0, 24),
        children_under_18=rng.choice((0, 0, 1, 2, 3)),
        immediate_danger=rng.random() < 0.05,
        consent_obtained=rng.random() < 0.9,
    )


def _rows(count: int, until: datetime) -> list[dict[str, Any]]:
    rng = random.Random(15)
    start = until - PERIOD
    step = PERIOD / count
    rows = []
    for n, body in enumerate(synthetic_submissions(count, seed=15, now=until, run="bench-diff")):
        submission = ReferralSubmission.model_validate(body)
        subject = submission.subject
        birth = date.fromisoformat(str(subject.date_of_birth)) if subject.date_of_birth else None
        rows.append(
            {
                "referral_id": f"bench-diff-{n:07d}",
                "accepted_at": start + step * n,
                "subject_key": subject_key_for(_KEY, subject.given_name, subject.family_name, birth),
                "facts": facts_json(varied(facts_of(submission), rng)),
            }
        )
    return rows


async def _fill(url: str, rows: list[dict[str, Any]]) -> None:
    await migrate(url)
    engine = open_engine(url, writer=True)
    try:
        async with engine.begin() as connection:
            for at in range(0, len(rows), 5_000):
                await connection.execute(insert(routing_facts), rows[at : at + 5_000])
    finally:
        await engine.dispose()


async def _replay(url: str, since: datetime, until: datetime) -> tuple[float, Any]:
    live = load_ruleset(DEFAULT_RULESET_PATH)
    candidate = parse_ruleset(candidate_text(), "bench candidate")
    engine = open_engine(url)
    try:
        started = time.perf_counter()
        diff = await replay_diff(ReadModel(engine), live, candidate, since, until)
        return time.perf_counter() - started, diff
    finally:
        await engine.dispose()


def rules_diff_bench(workdir: Path, count: int = REFERRALS) -> dict[str, Any]:
    """Fill a fresh read model with `count` referrals' facts and time one replay diff over them."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    url = f"sqlite+aiosqlite:///{workdir / 'read-model.sqlite3'}"
    until = datetime.now(UTC).replace(microsecond=0)
    print(f"Rules diff: filling a read model with {count:,} referrals' routing facts", flush=True)
    filled = time.perf_counter()
    rows = _rows(count, until)
    distinct = len({row["facts"] for row in rows})
    asyncio.run(_fill(url, rows))
    fill_s = time.perf_counter() - filled
    seconds, diff = asyncio.run(_replay(url, until - PERIOD, until + timedelta(seconds=1)))
    print(
        f"  replayed {diff.replayed:,} ({distinct:,} distinct fact sets) in {seconds:.2f} s; "
        f"{diff.moved.referrals:,} would change",
        flush=True,
    )
    return {
        "rules_diff_100k_s": round(seconds, 2),
        "rules_diff_replayed": diff.replayed,
        "rules_diff_moved": diff.moved.referrals,
        "rules_diff_fill_s": round(fill_s, 1),
        "rules_diff_distinct_facts": distinct,
    }
