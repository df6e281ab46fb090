"""Triage's settings (env prefix `SOSAFE_`)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr

from services.common.settings import CommonSettings
from services.triage.routing.ruleset import DEFAULT_RULESET_PATH


class TriageSettings(CommonSettings):
    required_outside_development: ClassVar[tuple[str, ...]] = ("session_secret",)
    triage_port: int = Field(default=8002, ge=1, le=65535)
    ruleset_file: Path = DEFAULT_RULESET_PATH
    sla_check_interval_s: float = Field(default=30.0, gt=0)
    action_reply_timeout_s: float = Field(default=10.0, gt=0)
    officer_actions_per_minute: int = Field(
        default=120, ge=1, description="Officer actions (API and console) one officer may send per minute, per replica."
    )
    session_secret: str = Field(default="dev-only-console-session-secret", min_length=16)
    read_model_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the read model, e.g. postgresql+asyncpg://user:password@host/db. "
        "Unset: SQLite at <data_dir>/read-model/triage.sqlite. Secret: it may hold a password.",
    )
