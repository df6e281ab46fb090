"""The `notify:` config: who hears about each service, and where webhook secrets come from."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas.notification import NotificationChannel, NotificationKind
from schemas.vocabulary import Service
from services.notify.routing import NotifyConfigError, NotifyRouting, WebhookTarget, load_notify_routing

CONFIG = """
intake: {port: 8001}
notify:
  services:
    sada:
      team_email: referrals@sada.example.org
      manager_email: manager@sada.example.org
      webhook:
        url: https://cases.sada.example.org/sosafe
        secret_env: SOSAFE_WEBHOOK_SECRET_SADA
    sos:
      team_email: sos@stgiles.example.org
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "dev.yaml"
    path.write_text(CONFIG)
    return path


def test_loads_the_notify_section_of_a_config_file(config_file: Path) -> None:
    """Other sections are ignored; addresses and webhooks are read per service."""
    routing = load_notify_routing(config_file)

    assert routing.team_addresses() == {
        Service.sada: "referrals@sada.example.org",
        Service.sos: "sos@stgiles.example.org",
    }
    assert routing.manager_addresses() == {Service.sada: "manager@sada.example.org"}


def test_assignments_go_by_email_and_webhook_escalations_by_email_to_a_manager(config_file: Path) -> None:
    """Channels follow what each service has configured."""
    routing = load_notify_routing(config_file)

    assert routing.channels_for(Service.sada, NotificationKind.assignment) == (
        NotificationChannel.email,
        NotificationChannel.webhook,
    )
    assert routing.channels_for(Service.sada, NotificationKind.escalation) == (NotificationChannel.email,)
    assert routing.channels_for(Service.sos, NotificationKind.escalation) == ()
    assert routing.channels_for(Service.hate_crime, NotificationKind.assignment) == ()


def test_webhook_secret_is_read_from_the_named_variable_of_the_given_environment(config_file: Path) -> None:
    """The file names the variable; the caller's mapping holds the value."""
    routing = load_notify_routing(config_file)

    targets = routing.webhook_targets({"SOSAFE_WEBHOOK_SECRET_SADA": "s3cret"})

    assert targets == {Service.sada: WebhookTarget(url="https://cases.sada.example.org/sosafe", secret=b"s3cret")}


def test_missing_webhook_secret_names_the_variable(config_file: Path) -> None:
    """A webhook without its secret fails at start-up, saying which variable to set."""
    routing = load_notify_routing(config_file)

    with pytest.raises(NotifyConfigError, match="SOSAFE_WEBHOOK_SECRET_SADA"):
        routing.webhook_targets({})


def test_file_without_a_notify_section_is_an_error(tmp_path: Path) -> None:
    """A service that would silently notify nobody does not start."""
    path = tmp_path / "other.yaml"
    path.write_text("intake: {port: 8001}\n")

    with pytest.raises(NotifyConfigError, match="notify"):
        load_notify_routing(path)


@pytest.mark.parametrize(
    "services",
    [
        {"sada": {"team_email": "not an address"}},
        {"sada": {"team_email": "a@example.org", "pager": "0800"}},
        {"police": {"team_email": "a@example.org"}},
        {"sada": {"webhook": {"url": "ftp://cases.example.org", "secret_env": "S"}}},
        {"sada": {"webhook": {"url": "https://cases.example.org", "secret_env": "lower-case"}}},
    ],
)
def test_malformed_routing_is_rejected(services: dict[str, object]) -> None:
    """Bad address, unknown key, unknown service, non-HTTP webhook, odd variable name."""
    with pytest.raises(ValidationError):
        NotifyRouting.model_validate({"services": services})


def test_webhook_target_repr_hides_the_secret() -> None:
    """A logged target never shows the signing secret."""
    target = WebhookTarget(url="https://cases.example.org/hook", secret=b"s3cret")

    assert "s3cret" not in repr(target)
