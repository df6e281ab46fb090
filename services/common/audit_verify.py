"""Checks audit hash chains (pure): each event signed by a holder of an audit key (its `mac` under the key
its `key_id` names), sequence without gaps, each event linked to the one before, each hash matching its
content. A redelivered copy of an event is fine; a different event at the same place in a chain is a
forgery or a fork."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from schemas.audit import GENESIS, AuditEvent
from services.common.audit_keys import AuditKeyring


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    referral_id: str | None
    seq: int
    problem: str


@dataclass
class VerifyReport:
    chains: int = 0
    events: int = 0
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def broken_referrals(self) -> list[str]:
        return sorted({p.referral_id or p.chain for p in self.problems})


def verify_chains(events: Iterable[AuditEvent], keyring: AuditKeyring) -> VerifyReport:
    """Every chain's problems; an event whose MAC does not verify under `keyring` is not counted in its chain."""
    by_chain: dict[str, dict[int, AuditEvent]] = defaultdict(dict)
    report = VerifyReport()
    for event in events:
        report.events += 1
        unsigned = keyring.problem(event)
        if unsigned is not None:
            report.problems.append(ChainProblem(event.chain, event.referral_id, event.seq, unsigned))
            continue
        if event.computed_hash() != event.hash:
            report.problems.append(
                ChainProblem(event.chain, event.referral_id, event.seq, "hash does not match the event's content")
            )
            continue
        earlier = by_chain[event.chain].get(event.seq)
        if earlier is not None and earlier.hash != event.hash:
            report.problems.append(
                ChainProblem(
                    event.chain, event.referral_id, event.seq, "two different events claim the same place in the chain"
                )
            )
            continue
        by_chain[event.chain][event.seq] = event
    report.chains = len(by_chain)
    for chain, positions in by_chain.items():
        previous = GENESIS
        for seq in range(1, max(positions) + 1):
            found = positions.get(seq)
            if found is None:
                any_event = next(iter(positions.values()))
                report.problems.append(ChainProblem(chain, any_event.referral_id, seq, "event missing"))
                previous = ""
                continue
            if previous and found.prev_hash != previous:
                report.problems.append(
                    ChainProblem(chain, found.referral_id, seq, "prev_hash does not match the event before")
                )
            previous = found.hash
    return report
