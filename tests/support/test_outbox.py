"""The outbox reader decodes what a mail reader would show and refuses to pass over an odd mail."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.support.outbox import UnreadableMail, read_outbox
from tests.support.payloads import DISTINCTIVE

REFERRAL_ID = "0b7f5a52-9a8e-4c1e-9a57-3f6f0c1d2e3f"


def write_mail(outbox: Path, body: str, *, transfer_encoding: str = "quoted-printable") -> Path:
    message = EmailMessage()
    message["To"] = "team@example.org"
    message["X-SoSafe-Notification-Id"] = "n-1"
    message.set_content(body, cte=transfer_encoding)
    outbox.mkdir(exist_ok=True)
    path = outbox / "mail.eml"
    path.write_bytes(message.as_bytes())
    return path


@pytest.mark.parametrize("encoding", ["quoted-printable", "base64"])
def test_a_value_split_by_the_transfer_encoding_is_found_whole(tmp_path: Path, encoding: str) -> None:
    """A family name wrapped across encoded lines (`Marchban=` / `ks`) is whole in the decoded text."""
    padding = "x" * 70  # pushes the name across quoted-printable's 76-character line limit
    body = f"Referral: {REFERRAL_ID}\nService: SADA (sada)\n{padding}{DISTINCTIVE['family_name']}\n"
    path = write_mail(tmp_path, body, transfer_encoding=encoding)
    assert DISTINCTIVE["family_name"] not in path.read_text()
    [mail] = read_outbox(tmp_path)
    assert DISTINCTIVE["family_name"] in mail.text
    assert (mail.referral_id, mail.service, mail.notification_id) == (REFERRAL_ID, "sada", "n-1")


def test_a_mail_without_its_referral_line_fails_loudly(tmp_path: Path) -> None:
    """A mail the reader cannot place is an error naming the missing line, never skipped."""
    write_mail(tmp_path, f"Service: SADA (sada)\n{DISTINCTIVE['given_name']}\n")
    with pytest.raises(UnreadableMail, match="no Referral line"):
        read_outbox(tmp_path)
