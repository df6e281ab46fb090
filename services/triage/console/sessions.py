"""Console sessions: a server-signed cookie holding an officer id, an expiry, a CSRF nonce and the
fingerprint of the officer's token (pure).

The cookie never holds the officer's token. It reads `<payload>.<signature>`, where the payload is
base64url JSON and the signature an HMAC-SHA256 of it under the session secret. The CSRF token of a
session is derived from its nonce, so it changes with every sign-in and is worthless without the secret.
The token fingerprint is an HMAC of the token's stored hash under the session secret: a session is the
officer's only while the access file still holds the token they signed in with, so rotating or removing
a token ends its sessions on every replica. The nonce also names the session for sign-out
(`session_hash`, what the revocation store keeps). No clock reads: the time is an argument.
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
    token_fingerprint: str | None = None
    """Of the token the officer signed in with (None before sign-in)."""

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

    def issue(self, officer_id: str | None, now: datetime, token_sha256: str | None = None) -> tuple[Session, str]:
        """A fresh session (new nonce) and its cookie value; an officer's is bound to their token's hash."""
        if (officer_id is None) != (token_sha256 is None):
            raise ValueError("an officer's session needs their token's hash, an anonymous one none")
        lifetime = SESSION_LIFETIME if officer_id is not None else SIGN_IN_LIFETIME
        session = Session(
            officer_id=officer_id,
            expires_at=int((now + lifetime).timestamp()),
            nonce=secrets.token_urlsafe(18),
            token_fingerprint=self.fingerprint(token_sha256) if token_sha256 is not None else None,
        )
        return session, self.encode(session)

    def fingerprint(self, token_sha256: str) -> str:
        digest = hmac.new(self._key, b"token:" + token_sha256.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()

    def holds_token(self, session: Session, token_sha256: str) -> bool:
        """Whether the session was signed in with the token whose hash the access file now holds."""
        presented = session.token_fingerprint or ""
        return hmac.compare_digest(presented.encode(), self.fingerprint(token_sha256).encode())

    def encode(self, session: Session) -> str:
        body = json.dumps(
            {"o": session.officer_id, "e": session.expires_at, "n": session.nonce, "t": session.token_fingerprint},
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
            session = Session(
                officer_id=fields["o"],
                expires_at=int(fields["e"]),
                nonce=str(fields["n"]),
                token_fingerprint=fields["t"],
            )
        except (binascii.Error, ValueError, KeyError, TypeError):
            return None
        if session.officer_id is not None and not isinstance(session.officer_id, str):
            return None
        if (session.officer_id is None) != (session.token_fingerprint is None):
            return None
        if session.token_fingerprint is not None and not isinstance(session.token_fingerprint, str):
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


def session_hash(session: Session) -> str:
    """How the revocation store names a session: the SHA-256 of its nonce (the nonce itself stays secret)."""
    return hashlib.sha256(b"sosafe-console-session-id:" + session.nonce.encode()).hexdigest()
