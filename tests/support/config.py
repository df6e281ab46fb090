"""Access files for tests: the dev file with webhooks pointed at a test receiver."""

from __future__ import annotations

from pathlib import Path

from services.common.access import hash_token
from tests.support.receivers import WebhookReceiver

ROOT = Path(__file__).parents[2]


WEBHOOK_SERVICES = ("sada", "sos", "hate_crime")


def access_with_webhooks(path: Path, receiver: WebhookReceiver, services: tuple[str, ...] = WEBHOOK_SERVICES) -> Path:
    """The dev access file with webhooks for `services` (the receiver decides how each answers)."""
    text = (ROOT / "deploy" / "config" / "dev.yaml").read_text()
    for service in services:
        marker = f"    {service}: {{team_email:"
        line = next(line for line in text.splitlines() if line.startswith(marker))
        secret_env = f"SOSAFE_WEBHOOK_SECRET_{service.upper()}"
        webhook = f', webhook: {{url: "{receiver.url(service)}", secret_env: {secret_env}}}}}'
        text = text.replace(line, line[:-1] + webhook)
    path.write_text(text)
    return path


def access_with_partner(path: Path, partner_id: str, token: str, rate_limit_per_minute: int) -> Path:
    """The dev access file plus one voluntary-sector partner (system = id) with its own rate limit."""
    text = (ROOT / "deploy" / "config" / "dev.yaml").read_text()
    extra = (
        f"  - id: {partner_id}\n    agency: voluntary\n    system: {partner_id}\n"
        f'    token_sha256: "{hash_token(token)}"\n    rate_limit_per_minute: {rate_limit_per_minute}\n'
    )
    path.write_text(text.replace("officers:\n", extra + "officers:\n", 1))
    return path


def with_outcomes_webhook(path: Path, partner_id: str, url: str, secret_env: str) -> Path:
    """The access file at `path` with an outcomes webhook for the partner (its `system` line follows its id)."""
    text = path.read_text()
    anchor = f"  - id: {partner_id}\n"
    start = text.index(anchor)
    system_end = text.index("\n", text.index("    system:", start)) + 1
    hook = f'    outcomes_webhook: {{url: "{url}", secret_env: {secret_env}}}\n'
    path.write_text(text[:system_end] + hook + text[system_end:])
    return path


def with_outcome_topics(path: Path, partner_ids: tuple[str, ...]) -> Path:
    """The access file at `path` (the dev file if absent) with `outcomes_topic: true` for each partner."""
    text = path.read_text() if path.exists() else (ROOT / "deploy" / "config" / "dev.yaml").read_text()
    for partner_id in partner_ids:
        anchor = f"  - id: {partner_id}\n"
        start = text.index(anchor)
        system_end = text.index("\n", text.index("    system:", start)) + 1
        text = text[:system_end] + "    outcomes_topic: true\n" + text[system_end:]
    path.write_text(text)
    return path
