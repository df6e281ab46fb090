"""`ruleset_live`: the first start with a ruleset version is audited once; a start with the same file adds
nothing; the same version from a different file is the next event of the same chain; the chain verifies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.audit import GENESIS, AuditAction
from schemas.audit_details import RulesetLiveDetails, details_as
from services.common.audit_keys import AuditKeyring
from services.common.audit_verify import verify_chains
from services.triage.cases.ruleset_live import announcement, file_sha256, ruleset_chain
from services.triage.routing.ruleset import DEFAULT_RULESET_PATH, load_ruleset

KEYS = AuditKeyring.of("triage-1", "a-long-random-triage-audit-key")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RULESET = load_ruleset(DEFAULT_RULESET_PATH)
SHA = file_sha256(DEFAULT_RULESET_PATH)


def test_the_first_start_announces_the_version_with_its_file_hash() -> None:
    event = announcement([], RULESET, SHA, T0)
    assert event is not None
    assert (event.chain, event.seq, event.prev_hash, event.referral_id) == (
        ruleset_chain("2026.12.1"),
        1,
        GENESIS,
        None,
    )
    assert event.chain == "triage:ruleset:2026.12.1"
    assert event.action is AuditAction.ruleset_live
    details = details_as(event, RulesetLiveDetails)
    assert details == RulesetLiveDetails(ruleset_version="2026.12.1", sha256=SHA, rules=len(RULESET.rules))
    assert len(SHA) == 64


def test_a_restart_with_the_same_file_announces_nothing() -> None:
    first = announcement([], RULESET, SHA, T0)
    assert first is not None
    assert announcement([KEYS.sign(first)], RULESET, SHA, T0 + timedelta(hours=1)) is None


def test_the_same_version_from_another_file_is_the_next_event_and_the_chain_verifies() -> None:
    first = announcement([], RULESET, SHA, T0)
    assert first is not None
    edited = "f" * 64
    second = announcement([KEYS.sign(first)], RULESET, edited, T0 + timedelta(days=1))
    assert second is not None
    assert (second.chain, second.seq, second.prev_hash) == (first.chain, 2, first.hash)
    report = verify_chains([KEYS.sign(first), KEYS.sign(second)], KEYS)
    assert (report.chains, report.events, report.problems) == (1, 2, [])
    # back to the first file: announced again (the chain's last event is the edited one)
    third = announcement([KEYS.sign(first), KEYS.sign(second)], RULESET, SHA, T0 + timedelta(days=2))
    assert third is not None and third.seq == 3
