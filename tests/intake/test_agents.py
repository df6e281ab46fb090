"""Intake's admit handler called alone, with a fake service object: a table as a dict, topics that record."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry

from schemas.audit import AuditEvent
from schemas.codec import decode
from schemas.referral import Referral
from services.common.access import load_access
from services.common.settings import DEV_CONFIG
from services.intake.admission import SeenRecord, to_referral
from services.intake.agents import admit_referral
from services.intake.metrics import IntakeMetrics
from tests.intake.test_admission import envelope
from tests.support.fake_topics import RecordingTopic

POLICE = next(p for p in load_access(DEV_CONFIG).partners if p.id == "dev-police")


def fake_intake(registry: CollectorRegistry) -> Any:
    return SimpleNamespace(
        seen={},
        accepted=RecordingTopic(),
        audit=RecordingTopic(),
        metrics=IntakeMetrics.create(registry),
    )


async def test_a_referral_is_admitted_once_and_a_resubmission_is_recorded_as_a_duplicate() -> None:
    registry = CollectorRegistry()
    intake = fake_intake(registry)
    first = to_referral(envelope("s1"), POLICE, b"k")
    again = to_referral(envelope("s2"), POLICE, b"k")  # the same partner reference, sent again
    assert first.referral_id == again.referral_id

    await admit_referral(first, intake)
    await admit_referral(again, intake)

    key = first.referral_id.encode()
    assert [(k, decode(v, Referral).submission_id) for k, v in intake.accepted.sent] == [(key, "s1")]
    assert [decode(v, AuditEvent).action for _, v in intake.audit.sent] == [
        "submitted",
        "accepted",
        "submitted",
        "duplicate",
    ]
    assert decode(intake.seen[key], SeenRecord) is not None
    assert registry.get_sample_value("sosafe_intake_accepted_total", {"agency": "police"}) == 1
    assert registry.get_sample_value("sosafe_intake_duplicate_total", {"agency": "police"}) == 1
