"""Notify's start-up refusals: an SMTP login without required STARTTLS, a plain-http webhook outside
development."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.notify.app import build
from services.notify.routing import NotifyConfigError
from services.notify.settings import NotifySettings

PLAIN_HTTP_WEBHOOK = """
notify:
  services:
    sada:
      team_email: referrals@sada.example.org
      webhook:
        url: http://cases.sada.example.org/sosafe
        secret_env: SOSAFE_WEBHOOK_SECRET_SADA
"""


@pytest.mark.parametrize(
    "login", [{"smtp_username": "relay-user", "smtp_password": "relay-pass"}, {"smtp_username": "relay-user"}]
)
@pytest.mark.parametrize("starttls", [None, False])
def test_smtp_credentials_without_required_starttls_stop_start_up(login: dict[str, str], starttls: bool | None) -> None:
    """Opportunistic STARTTLS (unset) would send the login in clear to a server that does not offer it."""
    with pytest.raises(ValidationError, match="set SOSAFE_SMTP_STARTTLS=true"):
        NotifySettings(smtp_starttls=starttls, **login)


@pytest.mark.parametrize("tls", [{"smtp_starttls": True}, {"smtp_use_tls": True}])
def test_smtp_credentials_over_required_tls_are_accepted(tls: dict[str, bool]) -> None:
    settings = NotifySettings(smtp_username="relay-user", smtp_password="relay-pass", **tls)
    assert settings.smtp_username == "relay-user"


def test_without_credentials_starttls_may_stay_opportunistic() -> None:
    """Mailpit and the development sink take no login, and need no TLS."""
    assert NotifySettings(smtp_starttls=None).smtp_starttls is None


def plain_http_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOSAFE_WEBHOOK_SECRET_SADA", "a-test-webhook-secret")
    path = tmp_path / "notify.yaml"
    path.write_text(PLAIN_HTTP_WEBHOOK)
    return path


def test_a_plain_http_webhook_stops_start_up_outside_development(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = plain_http_config(tmp_path, monkeypatch)
    with pytest.raises(NotifyConfigError, match="webhook for service sada is not https"):
        build(NotifySettings(config_file=config, embedded_broker=False, data_dir=tmp_path))


def test_a_plain_http_webhook_is_allowed_on_the_embedded_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Development and the test receivers listen on plain http on the loopback."""
    config = plain_http_config(tmp_path, monkeypatch)
    notify = build(NotifySettings(config_file=config, embedded_broker=True, data_dir=tmp_path))
    assert notify.routing.services
