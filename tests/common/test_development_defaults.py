"""Outside development a worker's secrets must be set, and not to their public development defaults."""

from __future__ import annotations

import pytest

from services.common.settings import CommonSettings, DevelopmentDefaultInUse
from services.intake.settings import IntakeSettings
from services.notify.settings import NotifySettings
from services.triage.settings import TriageSettings

REAL_SECRET = "a-long-random-secret-from-the-deployment"
AUDIT = {"audit_key": "a-long-random-audit-key", "audit_key_id": "svc-1"}


@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        (IntakeSettings(embedded_broker=False, **AUDIT), "SOSAFE_SUBJECT_KEY_SECRET"),
        (TriageSettings(embedded_broker=False, **AUDIT), "SOSAFE_SESSION_SECRET"),
        (
            IntakeSettings(embedded_broker=False, subject_key_secret="dev-only-subject-key-change-me", **AUDIT),
            "SOSAFE_SUBJECT_KEY_SECRET",
        ),
        (
            TriageSettings(embedded_broker=False, session_secret="dev-only-console-session-secret", **AUDIT),
            "SOSAFE_SESSION_SECRET",
        ),
        (NotifySettings(embedded_broker=False), "SOSAFE_AUDIT_KEY"),
        (NotifySettings(embedded_broker=False, audit_key="dev-only-audit-key-change-me"), "SOSAFE_AUDIT_KEY"),
        (IntakeSettings(embedded_broker=False, subject_key_secret=REAL_SECRET), "SOSAFE_AUDIT_KEY"),
        (NotifySettings(embedded_broker=False, audit_key="a-long-random-audit-key"), "SOSAFE_AUDIT_KEY_ID"),
    ],
    ids=[
        "intake-unset",
        "triage-unset",
        "intake-default",
        "triage-default",
        "audit-key-unset",
        "audit-key-default",
        "intake-audit-key-unset",
        "audit-key-id-default",
    ],
)
def test_a_missing_or_default_secret_is_refused_outside_development_naming_it(
    settings: CommonSettings, variable: str
) -> None:
    with pytest.raises(DevelopmentDefaultInUse, match=f"^{variable} is "):
        settings.refuse_development_defaults()


@pytest.mark.parametrize(
    "settings",
    [
        IntakeSettings(embedded_broker=False, subject_key_secret=REAL_SECRET, **AUDIT),
        TriageSettings(embedded_broker=False, session_secret=REAL_SECRET, **AUDIT),
        NotifySettings(embedded_broker=False, **AUDIT),
        IntakeSettings(embedded_broker=True),
        TriageSettings(embedded_broker=True),
    ],
    ids=["intake-set", "triage-set", "notify-set", "intake-embedded", "triage-embedded"],
)
def test_set_secrets_and_the_embedded_broker_are_accepted(settings: CommonSettings) -> None:
    settings.refuse_development_defaults()
