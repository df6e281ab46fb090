"""Intake's settings (env prefix `SOSAFE_`)."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import CommonSettings


class IntakeSettings(CommonSettings):
    intake_port: int = Field(default=8001, ge=1, le=65535)
