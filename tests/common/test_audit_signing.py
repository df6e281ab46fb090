"""Whatever a service sends to `audit.events` leaves signed with its key; other topics pass unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from schemas.audit import ActorKind, AuditAction, AuditEvent
from schemas.codec import decode, encode
from services.common.audit_chain import next_event
from services.common.faust_app import make_app
from services.common.topics import ACCEPTED, AUDIT
from services.intake.publisher import SubmissionPublisher
from services.intake.settings import IntakeSettings

SECRET = "a-long-random-intake-audit-key"


def unsigned_event() -> AuditEvent:
    event, _ = next_event(
        None,
        emitter="intake",
        chain_key="r1",
        referral_id="r1",
        action=AuditAction.submitted,
        actor_kind=ActorKind.partner,
        actor="police",
        occurred_at=datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
    )
    return event


def settings(tmp_path: Path) -> IntakeSettings:
    return IntakeSettings(audit_key=SECRET, audit_key_id="intake-1", data_dir=tmp_path, table_store="memory://")


def test_the_faust_audit_topic_signs_and_other_topics_are_untouched(tmp_path: Path) -> None:
    config = settings(tmp_path)
    app = make_app("sosafe-intake", config, 6066)
    raw = encode(unsigned_event())
    sent, _ = app.topic(AUDIT, value_serializer="raw").prepare_value(raw, "raw")
    event = decode(sent, AuditEvent)
    assert event.key_id == "intake-1" and config.audit_keyring.problem(event) is None
    assert event.hash == unsigned_event().hash
    assert app.topic(ACCEPTED, value_serializer="raw").prepare_value(raw, "raw")[0] == raw


def test_a_value_on_the_audit_topic_that_is_no_event_is_refused_not_sent(tmp_path: Path) -> None:
    app = make_app("sosafe-intake", settings(tmp_path), 6066)
    with pytest.raises(ValueError, match="validation error"):
        app.topic(AUDIT, value_serializer="raw").prepare_value(b"{}", "raw")


@pytest.mark.asyncio
async def test_intake_http_path_signs_its_audit_events_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rejections answered over HTTP are audited through intake's own producer, not Faust: signed the same."""
    config = settings(tmp_path)
    publisher = SubmissionPublisher(config)
    sent: list[tuple[str, bytes]] = []

    async def capture(producer: Any, topic: str, key: bytes | None, value: bytes) -> None:
        sent.append((topic, value))

    monkeypatch.setattr(publisher, "_producer", object())
    monkeypatch.setattr(SubmissionPublisher, "_send_and_wait", staticmethod(capture))
    await publisher.publish(AUDIT, b"r1", encode(unsigned_event()))
    await publisher.publish(ACCEPTED, b"r1", b"not an event")
    [(topic, value), other] = sent
    assert topic == AUDIT and config.audit_keyring.problem(decode(value, AuditEvent)) is None
    assert other == (ACCEPTED, b"not an event")
