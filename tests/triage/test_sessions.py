"""Console sessions: signed cookies holding an officer id, expiry and token fingerprint, and their CSRF tokens."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from services.common.access import hash_token
from services.triage.console.sessions import SESSION_LIFETIME, SIGN_IN_LIFETIME, SessionSigner, session_hash

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
SECRET = "test-console-session-secret"
TOKEN_HASH = hash_token("an-officer-token")


def payload_of(cookie: str) -> dict[str, object]:
    payload = cookie.split(".")[0]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def test_issued_session_reads_back_with_the_officer_id_until_eight_hours_later() -> None:
    """A signed-in session names its officer and lasts eight hours."""
    signer = SessionSigner(SECRET)
    session, cookie = signer.issue("dev-officer-sada", NOW, TOKEN_HASH)
    assert signer.read(cookie, NOW) == session
    assert session.signed_in
    assert signer.read(cookie, NOW + SESSION_LIFETIME - timedelta(seconds=1)) == session
    assert signer.read(cookie, NOW + SESSION_LIFETIME) is None


def test_cookie_holds_only_the_officer_id_expiry_nonce_and_fingerprint_never_the_token() -> None:
    """The cookie payload is the officer id, the expiry, a CSRF nonce and a keyed fingerprint of the token's
    hash: no token, no hash of it, no name."""
    session, cookie = SessionSigner(SECRET).issue("duty-sada", NOW, TOKEN_HASH)
    fingerprint = session.token_fingerprint
    assert payload_of(cookie) == {"o": "duty-sada", "e": session.expires_at, "n": session.nonce, "t": fingerprint}
    assert fingerprint and fingerprint not in TOKEN_HASH and "an-officer-token" not in cookie


def test_a_session_holds_only_the_token_it_was_signed_in_with() -> None:
    """After the access file's token for the officer changes (rotation), the session no longer holds it."""
    signer = SessionSigner(SECRET)
    session, _ = signer.issue("duty-sada", NOW, TOKEN_HASH)
    assert signer.holds_token(session, TOKEN_HASH)
    assert not signer.holds_token(session, hash_token("the-rotated-token"))
    anonymous, _ = signer.issue(None, NOW)
    assert not signer.holds_token(anonymous, TOKEN_HASH)


def test_an_officer_session_without_a_token_fingerprint_is_refused() -> None:
    """A signed cookie naming an officer but no fingerprint (issued before sessions held one) reads as none."""
    signer = SessionSigner(SECRET)
    _, cookie = signer.issue("duty-sada", NOW, TOKEN_HASH)
    fields = payload_of(cookie) | {"t": None}
    payload = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode()
    assert signer.read(f"{payload}.{signer._sign(payload)}", NOW) is None
    with pytest.raises(ValueError, match="token's hash"):
        signer.issue("duty-sada", NOW)


def test_the_revocation_name_of_a_session_does_not_reveal_its_nonce() -> None:
    """The store of signed-out sessions keeps a hash of the nonce, so it holds nothing a CSRF token needs."""
    first, _ = SessionSigner(SECRET).issue("duty-sada", NOW, TOKEN_HASH)
    second, _ = SessionSigner(SECRET).issue("duty-sada", NOW, TOKEN_HASH)
    assert session_hash(first) != session_hash(second) and first.nonce not in session_hash(first)


def test_anonymous_sign_in_session_is_short_lived_and_not_signed_in() -> None:
    """The session issued with the sign-in form carries no officer and lasts half an hour."""
    signer = SessionSigner(SECRET)
    session, cookie = signer.issue(None, NOW)
    assert not session.signed_in
    assert signer.read(cookie, NOW + SIGN_IN_LIFETIME - timedelta(seconds=1)) == session
    assert signer.read(cookie, NOW + SIGN_IN_LIFETIME) is None


def test_tampered_payload_is_rejected() -> None:
    """Changing the officer id in the payload breaks the signature."""
    signer = SessionSigner(SECRET)
    _, cookie = signer.issue("dev-officer-sos", NOW, TOKEN_HASH)
    signature = cookie.split(".")[1]
    fields = payload_of(cookie) | {"o": "dev-manager"}
    forged = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode()
    assert signer.read(f"{forged}.{signature}", NOW) is None


def test_cookie_signed_under_another_secret_is_rejected() -> None:
    """A cookie from a server with a different session secret is not accepted."""
    _, cookie = SessionSigner("another-secret-of-16-chars").issue("dev-officer-sada", NOW, TOKEN_HASH)
    assert SessionSigner(SECRET).read(cookie, NOW) is None


@pytest.mark.parametrize("cookie", [None, "", "no-dot", "a.b.c", "!!!.???", "x" * 2000, "e30.AAAA"])
def test_malformed_cookies_read_as_no_session(cookie: str | None) -> None:
    """Missing, oversized or garbled cookies give no session rather than an error."""
    assert SessionSigner(SECRET).read(cookie, NOW) is None


def test_signed_payload_of_the_wrong_shape_reads_as_no_session() -> None:
    """A validly signed payload that is not a session object is refused."""
    signer = SessionSigner(SECRET)
    payload = base64.urlsafe_b64encode(b'["not", "a", "session"]').rstrip(b"=").decode()
    assert signer.read(f"{payload}.{signer._sign(payload)}", NOW) is None


def test_csrf_token_matches_only_its_own_session() -> None:
    """Each session has its own CSRF token; another session's token or none is refused."""
    signer = SessionSigner(SECRET)
    first, _ = signer.issue("dev-officer-sada", NOW, TOKEN_HASH)
    second, _ = signer.issue("dev-officer-sada", NOW, TOKEN_HASH)
    assert signer.csrf_valid(first, signer.csrf_token(first))
    assert signer.csrf_token(first) != signer.csrf_token(second)
    assert not signer.csrf_valid(first, signer.csrf_token(second))
    assert not signer.csrf_valid(first, None)
    assert not signer.csrf_valid(first, "")
    assert not signer.csrf_valid(None, signer.csrf_token(first))


def test_csrf_token_does_not_reveal_the_nonce() -> None:
    """The hidden-field token is derived under the secret, not the cookie's nonce itself."""
    signer = SessionSigner(SECRET)
    session, _ = signer.issue("dev-officer-sada", NOW, TOKEN_HASH)
    assert session.nonce not in signer.csrf_token(session)


def test_short_secret_is_refused() -> None:
    """A session secret under 16 characters is a configuration error."""
    with pytest.raises(ValueError, match="16 characters"):
        SessionSigner("short")
