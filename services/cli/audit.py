"""`sosafe audit verify`: read every event on `audit.events` and check each hash chain."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from schemas.audit import AuditEvent
from schemas.codec import decode
from services.common.audit_keys import AuditKeyring
from services.common.audit_verify import ChainProblem, VerifyReport, verify_chains
from services.common.kafka_security import security_options
from services.common.settings import CommonSettings
from services.common.topics import AUDIT


async def read_all(
    bootstrap: str,
    topic: str,
    idle_s: float = 1.0,
    timeout_s: float = 300.0,
    security: Mapping[str, Any] | None = None,
) -> list[tuple[int, int, bytes | None]]:
    """(partition, offset, value) of every record on `topic`, reading until the end offsets are reached and
    the topic has been quiet for `idle_s`. `security`: aiokafka's options (services.common.kafka_security)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        **(security or {}),
    )
    try:
        await consumer.start()  # inside the try: a failed start must still close the consumer
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[tuple[int, int, bytes | None]] = []
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            got = [r for recs in batch.values() for r in recs]
            records.extend((r.partition, r.offset, r.value) for r in got)
            if got:
                quiet_since = time.monotonic()
            positions = [await consumer.position(tp) for tp in tps]
            at_end = all(position >= ends[tp] for position, tp in zip(positions, tps, strict=True))
            if at_end and time.monotonic() - quiet_since >= idle_s:
                break
        return records
    finally:
        await consumer.stop()


def check(records: list[tuple[int, int, bytes | None]], keyring: AuditKeyring) -> VerifyReport:
    events = []
    undecodable = []
    for partition, offset, value in records:
        try:
            events.append(decode(value or b"", AuditEvent))
        except ValidationError:
            undecodable.append(ChainProblem(f"partition {partition} offset {offset}", None, 0, "not an audit event"))
    report = verify_chains(events, keyring)
    report.problems.extend(undecodable)
    return report


EXIT_OK = 0
EXIT_BROKEN = 1
"""At least one audit chain is broken; each broken referral is named."""
EXIT_NOT_CHECKED = 2
"""The audit topic could not be read (broker unreachable, topic missing...): nothing was checked."""


def run_verify(broker: str | None) -> int:
    """Check every chain; the exit code says whether they hold (0), are broken (1) or went unchecked (2).

    Connects as the principal the settings name (SOSAFE_KAFKA_*, an operator's principal with read access
    to `audit.events`) and verifies with the audit keys they hold: SOSAFE_AUDIT_KEY, SOSAFE_AUDIT_KEYS_PREVIOUS
    and every other service's keys in SOSAFE_AUDIT_VERIFY_KEYS (docs/operations.md#audit-keys)."""
    try:
        settings = CommonSettings()
    except ValidationError as exc:
        print(f"sosafe audit verify: the settings are invalid, nothing checked: {exc}", file=sys.stderr)
        return EXIT_NOT_CHECKED
    bootstrap = broker or settings.bootstrap_servers
    try:
        records = asyncio.run(read_all(bootstrap, AUDIT, security=security_options(settings)))
    except Exception as exc:  # the broker's and the client's errors vary; one sentence for the operator
        print(f"sosafe audit verify: cannot read {AUDIT} from {bootstrap}, nothing checked: {exc}", file=sys.stderr)
        return EXIT_NOT_CHECKED
    report = check(records, settings.audit_keyring)
    if report.problems:
        for problem in report.problems:
            print(f"BROKEN {problem.referral_id or '-'} chain {problem.chain} seq {problem.seq}: {problem.problem}")
        print(
            f"{len(report.broken_referrals)} referral(s) with a broken audit chain, "
            f"{report.chains} chain(s) and {report.events} event(s) checked."
        )
        return EXIT_BROKEN
    print(f"ok: {report.chains} chain(s) and {report.events} event(s) checked, none broken.")
    return EXIT_OK
