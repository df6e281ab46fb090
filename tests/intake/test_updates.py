"""Intake's reading of a referrer's update and withdrawal (pure): bodies, ownership, the published message."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from schemas.update import NewInformation, Withdrawal
from services.intake.admission import admit
from services.intake.updates import UpdateInvalid, owned_by, read_body, referral_update
from tests.triage.referral_factory import build_referral

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SECRET_VALUE = "Secret-addendum-value-93b1"


def test_new_information_reads_and_becomes_a_referral_update() -> None:
    body = read_body(
        orjson.dumps({"schema_version": "1", "risk": {"level": "high"}, "narrative_addendum": "more"}), NewInformation
    )
    update = referral_update("r" * 36, "p1", NOW, body)
    assert update.information == body and update.withdrawal is None and update.update_id


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", "json_invalid"),
        (b"[1]", "model_type"),
        (orjson.dumps({"schema_version": "1"}), "update_empty"),
        (orjson.dumps({"schema_version": "1", "concerns": ["hate_crime", "hate_crime"]}), "concerns_repeat"),
        (orjson.dumps({"schema_version": "1", "risk": {"level": SECRET_VALUE}}), "enum"),
        (orjson.dumps({"schema_version": "1", SECRET_VALUE: 1}), "extra_forbidden"),
    ],
)
def test_invalid_information_names_the_rule_never_the_value(raw: bytes, code: str) -> None:
    with pytest.raises(UpdateInvalid) as caught:
        read_body(raw, NewInformation)
    assert code in {e.code for e in caught.value.errors}
    assert SECRET_VALUE not in orjson.dumps([e.model_dump() for e in caught.value.errors]).decode()


def test_withdrawal_needs_a_known_reason() -> None:
    assert (
        read_body(orjson.dumps({"schema_version": "1", "reason": "risk_resolved"}), Withdrawal).reason
        == "risk_resolved"
    )
    with pytest.raises(UpdateInvalid):
        read_body(orjson.dumps({"schema_version": "1", "reason": "because"}), Withdrawal)


def test_only_the_referring_partner_owns_a_referral() -> None:
    referral = build_referral(partner_id="dev-partner-police")
    record = admit(None, referral).record
    assert owned_by(record, "dev-partner-police")
    assert not owned_by(record, "dev-partner-hospital")
    assert not owned_by(None, "dev-partner-police")
    duplicate = admit(record, referral.model_copy(update={"submission_id": "again"})).record
    assert duplicate.partner_id == "dev-partner-police"
    legacy = record.model_copy(update={"partner_id": None})
    assert not owned_by(legacy, "dev-partner-police")
