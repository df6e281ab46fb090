"""Who hears about a service's referrals: its team, its manager and, optionally, its case system.

The `notify:` section of the deployment YAML, e.g.::

    notify:
      services:
        sada:
          team_email: referrals@sada.example.org
          manager_email: manager@sada.example.org
          webhook:
            url: https://cases.sada.example.org/sosafe/notifications
            secret_env: SOSAFE_WEBHOOK_SECRET_SADA

Webhook secrets never sit in the file: it names the environment variable holding each one, and the
caller hands in that environment (`os.environ` in the service's settings, a dict in tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, EmailStr, StringConstraints

from schemas.notification import NotificationChannel, NotificationKind
from schemas.vocabulary import Service
from services.common.access import Partner

SecretEnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$", max_length=128)]


class NotifyConfigError(ValueError):
    """The notify configuration is missing or names a secret that is not set."""


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WebhookRoute(_Config):
    """A service's case-system endpoint and the environment variable holding its signing secret."""

    url: AnyHttpUrl
    secret_env: SecretEnvName


class ServiceContacts(_Config):
    team_email: EmailStr | None = None
    """Receives every new assignment to the service."""

    manager_email: EmailStr | None = None
    """Receives the service's escalations (SLA breaches)."""

    webhook: WebhookRoute | None = None


@dataclass(frozen=True)
class WebhookTarget:
    """A resolved webhook route: where to POST and the secret to sign with."""

    url: str
    secret: bytes = field(repr=False)


class NotifyRouting(_Config):
    services: dict[Service, ServiceContacts] = {}

    def channels_for(self, service: Service, kind: NotificationKind) -> tuple[NotificationChannel, ...]:
        """The channels a notification of this kind about this service goes out on."""
        contacts = self.services.get(service)
        if contacts is None:
            return ()
        if kind is NotificationKind.escalation:
            return (NotificationChannel.email,) if contacts.manager_email else ()
        channels: list[NotificationChannel] = []
        if contacts.team_email:
            channels.append(NotificationChannel.email)
        if contacts.webhook is not None:
            channels.append(NotificationChannel.webhook)
        return tuple(channels)

    def team_addresses(self) -> dict[Service, str]:
        return {s: c.team_email for s, c in self.services.items() if c.team_email}

    def manager_addresses(self) -> dict[Service, str]:
        return {s: c.manager_email for s, c in self.services.items() if c.manager_email}

    def require_https_webhooks(self) -> None:
        """Outside development every webhook URL is https; raises `NotifyConfigError` naming the service."""
        for service, contacts in self.services.items():
            if contacts.webhook is not None and contacts.webhook.url.scheme != "https":
                raise NotifyConfigError(
                    f"webhook for service {service.value} is not https: outside development "
                    "(SOSAFE_EMBEDDED_BROKER unset) notifications go only to https URLs"
                )

    def webhook_targets(self, secrets: Mapping[str, str]) -> dict[Service, WebhookTarget]:
        """Each configured webhook with its secret; raises `NotifyConfigError` naming a missing variable."""
        targets: dict[Service, WebhookTarget] = {}
        for service, contacts in self.services.items():
            if contacts.webhook is None:
                continue
            secret = secrets.get(contacts.webhook.secret_env, "")
            if not secret:
                raise NotifyConfigError(
                    f"webhook secret for service {service.value} is not set: "
                    f"environment variable {contacts.webhook.secret_env}"
                )
            targets[service] = WebhookTarget(url=str(contacts.webhook.url), secret=secret.encode())
        return targets


def partner_webhook_targets(
    partners: list[Partner], secrets: Mapping[str, str], require_https: bool
) -> dict[str, WebhookTarget]:
    """Each partner's outcomes webhook (access file `partners[].outcomes_webhook`) with its secret, by partner
    id; raises `NotifyConfigError` naming the partner for a missing secret or, when required, plain http."""
    targets: dict[str, WebhookTarget] = {}
    for partner in partners:
        hook = partner.outcomes_webhook
        if hook is None:
            continue
        if require_https and hook.url.scheme != "https":
            raise NotifyConfigError(
                f"outcomes webhook for partner {partner.id} is not https: outside development "
                "(SOSAFE_EMBEDDED_BROKER unset) outcomes go only to https URLs"
            )
        secret = secrets.get(hook.secret_env, "")
        if not secret:
            raise NotifyConfigError(
                f"outcomes webhook secret for partner {partner.id} is not set: environment variable {hook.secret_env}"
            )
        targets[partner.id] = WebhookTarget(url=str(hook.url), secret=secret.encode())
    return targets


def load_notify_routing(path: Path | str) -> NotifyRouting:
    """The `notify:` section of a YAML config file; raises `NotifyConfigError` when it is absent."""
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("notify"), dict):
        raise NotifyConfigError(f"{path}: no 'notify' section")
    return NotifyRouting.model_validate(document["notify"])
