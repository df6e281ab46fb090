"""Intake's settings (env prefix `SOSAFE_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from services.common.settings import CommonSettings


class IntakeSettings(CommonSettings):
    required_outside_development: ClassVar[tuple[str, ...]] = ("subject_key_secret",)
    intake_port: int = Field(default=8001, ge=1, le=65535)
    publish_timeout_s: float = Field(default=3.0, gt=0, le=60)
    """How long `POST /v1/referrals` waits for the broker to acknowledge a submission before it answers
    503 with `Retry-After`."""
