"""Notify's settings (env prefix `SOSAFE_`). Webhook secrets come from `SOSAFE_WEBHOOK_SECRET_*`."""

from __future__ import annotations

import os

from pydantic import Field, SecretStr, model_validator

from services.common.settings import CommonSettings
from services.notify.backoff import RetryPolicy

WEBHOOK_SECRET_PREFIX = "SOSAFE_WEBHOOK_SECRET_"  # noqa: S105 - a name prefix, not a secret


class NotifySettings(CommonSettings):
    notify_port: int = Field(default=8003, ge=1, le=65535)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_starttls: bool | None = None
    smtp_use_tls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "SoSafe Referral Router <router@sosafe.example.org>"
    smtp_domain: str = "sosafe.example.org"
    send_timeout_s: float = Field(default=10.0, gt=0)
    retry_base_s: float = Field(default=30.0, gt=0)
    retry_max_s: float = Field(default=3600.0, gt=0)
    retry_max_attempts: int = Field(default=8, ge=1)

    @model_validator(mode="after")
    def _credentials_only_over_tls(self) -> NotifySettings:
        """A relay login never crosses in clear: with credentials, STARTTLS is required, not opportunistic
        (left unset, aiosmtplib upgrades only when the server offers it, so a stripped offer sends them bare)."""
        credentials = self.smtp_username is not None or self.smtp_password is not None
        if credentials and not self.smtp_use_tls and self.smtp_starttls is not True:
            raise ValueError(
                "SOSAFE_SMTP_USERNAME or SOSAFE_SMTP_PASSWORD is set: set SOSAFE_SMTP_STARTTLS=true "
                "(or SOSAFE_SMTP_USE_TLS=true for implicit TLS) so the login is never sent unencrypted"
            )
        return self

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            base_seconds=self.retry_base_s, max_seconds=self.retry_max_s, max_attempts=self.retry_max_attempts
        )

    @staticmethod
    def webhook_secrets() -> dict[str, str]:
        """The `SOSAFE_WEBHOOK_SECRET_<SERVICE>` variables the routing file's `secret_env` names refer to."""
        return {name: value for name, value in os.environ.items() if name.startswith(WEBHOOK_SECRET_PREFIX)}
