"""Console sessions: a server-signed cookie holding an officer id, an expiry and a CSRF nonce (pure).

The cookie never holds the officer's token. It reads `<payload>.<signature>`, where the payload is
base64url JSON and the signature an HMAC-SHA256 of it under the session secret. The CSRF token of a
session is derived from its nonce, so it changes with every sign-in and is worthless without the secret.
No clock reads: the time is an argument.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

SESSION_COOKIE = "sosafe_console_session"
SESSION_LIFETIME = timedelta(hours=8)
SIGN_IN_LIFETIME = timedelta(minutes=30)
"""How long an anonymous session (issued with the sign-in form, for its CSRF token) lasts."""
MAX_COOKIE_CHARS = 1024


@dataclass(frozen=True)
class Session:
    """Who is signed in (None before sign-in), until when, and the nonce the CSRF token derives from."""

    officer_id: str | None
    expires_at: int
    """Unix seconds."""
    nonce: str

    @property
    def signed_in(self) -> bool:
        return self.officer_id is not None


class SessionSigner:
    """Issues and reads signed session cookies and the CSRF tokens of their sessions."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the session secret must be at least 16 characters")
        self._key = hashlib.sha256(b"sosafe-console-session:" + secret.encode()).digest()
        self._csrf_key = hashlib.sha256(b"sosafe-console-csrf:" + secret.encode()).digest()

    def issue(self, officer_id: str | None, now: datetime) -> tuple[Session, str]:
        """A fresh session (new nonce) and its cookie value."""
        lifetime = SESSION_LIFETIME if officer_id is not None else SIGN_IN_LIFETIME
        session = Session(
            officer_id=officer_id, expires_at=int((now + lifetime).timestamp()), nonce=secrets.token_urlsafe(18)
        )
        return session, self.encode(session)

    def encode(self, session: Session) -> str:
        body = json.dumps(
            {"o": session.officer_id, "e": session.expires_at, "n": session.nonce},
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
        return f"{payload}.{self._sign(payload)}"

    def read(self, cookie: str | None, now: datetime) -> Session | None:
        """The session a cookie holds, or None when it is missing, tampered with, malformed or expired."""
        if not cookie or len(cookie) > MAX_COOKIE_CHARS or cookie.count(".") != 1:
            return None
        payload, signature = cookie.split(".")
        if not hmac.compare_digest(self._sign(payload).encode(), signature.encode()):
            return None
        try:
            fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            session = Session(officer_id=fields["o"], expires_at=int(fields["e"]), nonce=str(fields["n"]))
        except (binascii.Error, ValueError, KeyError, TypeError):
            return None
        if session.officer_id is not None and not isinstance(session.officer_id, str):
            return None
        if session.expires_at <= now.timestamp():
            return None
        return session

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._csrf_key, session.nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_valid(self, session: Session | None, presented: str | None) -> bool:
        if session is None or not presented:
            return False
        return hmac.compare_digest(self.csrf_token(session).encode(), presented.encode())

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
