"""The duty-officer console (`GET /`): server-rendered pages, signed sessions, CSRF on every form.

The plumbing shared by the console's views lives here (sessions, rendering, headers, scope); the views
themselves are in `views.py`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

import jinja2
from aiohttp import web as aioweb
from faust.web import Request, Response, View

from schemas.vocabulary import Service
from services.common.logs import get_logger
from services.triage.api.officers import parse_service
from services.triage.cases.case import Case
from services.triage.console.pages import reason_options, service_name
from services.triage.console.sessions import SESSION_COOKIE, SESSION_LIFETIME, Session, SessionSigner, session_hash
from services.triage.read.revocations import SessionRevocations

if TYPE_CHECKING:
    from services.common.access import Officer
    from services.triage.service import Triage

log = get_logger("sosafe.triage.console")

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"
GOVUK_CSS = STATIC_DIR / "govuk" / "govuk-frontend.min.css"
GOVUK_JS = STATIC_DIR / "govuk" / "govuk-frontend.min.js"
REPORTS_URL = "/reports"
CONSOLE_PATHS = ("/console/", "/static/")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
REFERRAL_ID = re.compile(r"^[0-9A-Za-z-]{1,64}$")


def is_console_path(path: str) -> bool:
    return path == "/" or path.startswith(CONSOLE_PATHS)


def safe_next(value: str | None) -> str | None:
    """A post-sign-in destination only if it is a console path on this site."""
    if not value or len(value) > 300 or "\\" in value or "//" in value:
        return None
    return value if value == "/" or value.startswith("/console/") else None


def sign_in_url(then: str | None) -> str:
    """The sign-in page, returning to `then` afterwards when it is a console page."""
    target = safe_next(then)
    return "/console/sign-in" + (f"?{urlencode({'next': target})}" if target and target != "/" else "")


def item_url(service: Service | str, referral_id: str) -> str:
    return f"/console/queues/{service}/items/{referral_id}"


def deep_link(query: Mapping[str, str]) -> str | None:
    """The item page a notification link (`/?service=..&referral_id=..`) points at, if it is well formed."""
    service, referral_id = parse_service(query.get("service", "")), query.get("referral_id", "")
    if service is None or not REFERRAL_ID.match(referral_id):
        return None
    return item_url(service, referral_id)


def is_secure(request: Request) -> bool:
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return cast(aioweb.Request, request).scheme == "https" or forwarded == "https"


async def add_security_headers(request: aioweb.Request, response: aioweb.StreamResponse) -> None:
    """Every answer of triage's port: not to be stored by any cache (queues, referrals and their trails are
    personal data, and so may be an error's context); the console's pages get the full set of headers."""
    response.headers["Cache-Control"] = "no-store"
    if is_console_path(request.path):
        response.headers.update(SECURITY_HEADERS)


@dataclass(frozen=True)
class Visit:
    """Who is asking: their session (anonymous before sign-in) and the officer it names, if any."""

    session: Session | None
    officer: Officer | None
    secure: bool
    new_cookie: str | None = None


class Console:
    """Sessions, templates and scope checks shared by the console's views; built once at start-up."""

    def __init__(self, triage: Triage) -> None:
        self.triage = triage
        self.signer = SessionSigner(triage.settings.session_secret)
        self.revocations = SessionRevocations(triage.view.engine)
        self.officers = {officer.id: officer for officer in triage.access.officers}
        self.govuk = GOVUK_CSS.is_file()
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.globals.update(
            service_name=service_name,
            reason_options=reason_options(),
            services=[(s.value, service_name(s)) for s in Service],
            reports_url=REPORTS_URL,
            govuk=self.govuk,
            govuk_js=GOVUK_JS.is_file(),
        )

    async def visit(self, request: Request, now: datetime | None = None) -> Visit:
        """Who is asking. A signed-in session counts only while it is not signed out (on any replica), its
        officer is still in the access file and their token is still the one they signed in with."""
        session = self.signer.read(request.cookies.get(SESSION_COOKIE), now or datetime.now(UTC))
        if session is not None and session.signed_in and await self.revocations.is_revoked(session_hash(session)):
            session = None
        officer = self.officers.get(session.officer_id) if session and session.officer_id else None
        if session is not None and officer is not None and not self.signer.holds_token(session, officer.token_sha256):
            officer = None
        return Visit(session=session, officer=officer, secure=is_secure(request))

    async def sign_out(self, visit: Visit) -> None:
        """End the visit's session on every replica: it is refused from now until it would have expired."""
        session = visit.session
        if session is not None and session.signed_in:
            expires_at = datetime.fromtimestamp(session.expires_at, UTC)
            await self.revocations.revoke(session_hash(session), expires_at, datetime.now(UTC))

    def with_anonymous_session(self, visit: Visit) -> Visit:
        """The visit with a session for the sign-in form's CSRF token, issuing one if it has none."""
        if visit.session is not None:
            return visit
        session, cookie = self.signer.issue(None, datetime.now(UTC))
        return replace(visit, session=session, new_cookie=cookie)

    def csrf_ok(self, visit: Visit, form: Mapping[str, Any]) -> bool:
        presented = form.get("csrf_token")
        return self.signer.csrf_valid(visit.session, presented if isinstance(presented, str) else None)

    def render(self, template: str, visit: Visit, **context: Any) -> str:
        token = self.signer.csrf_token(visit.session) if visit.session else ""
        return self.templates.get_template(template).render(
            officer=visit.officer, csrf_token=token, manager=bool(visit.officer and visit.officer.manager), **context
        )

    def page(self, view: View, template: str, visit: Visit, status: int = 200, **context: Any) -> Response:
        response = view.html(self.render(template, visit, **context), status=status)
        if visit.new_cookie is not None:
            set_session_cookie(response, visit.new_cookie, visit.secure)
        return response

    def problem(self, view: View, visit: Visit, status: int, title: str, message: str) -> Response:
        return self.page(view, "problem.html", visit, status=status, title=title, message=message)

    def forbidden_form(self, view: View, visit: Visit) -> Response:
        log.warning("console_csrf_refused", officer_id=visit.officer.id if visit.officer else None)
        return self.problem(
            view,
            visit,
            403,
            "This form has expired",
            "The form was out of date or incomplete, so nothing was changed. Go back, reload the page and try again.",
        )

    def sign_in_redirect(self, view: View, request: Request) -> Response:
        return redirect(view, sign_in_url(cast(aioweb.Request, request).path_qs))

    def scope_problem(self, view: View, visit: Visit, service: str) -> Response | Service:
        """The queue asked for, or the page saying why it cannot be shown."""
        wanted = parse_service(service)
        if wanted is None:
            return self.problem(view, visit, 404, "Page not found", "There is no such queue.")
        assert visit.officer is not None
        if wanted not in visit.officer.scope:
            return self.problem(
                view, visit, 403, "You cannot see this queue", f"The {service_name(wanted)} queue is not in your scope."
            )
        return wanted

    async def case(self, referral_id: str) -> Case | None:
        return await self.triage.view.case(referral_id)


def redirect(view: View, location: str, cookie: str | None = None, secure: bool = False) -> Response:
    response = view.text("", status=303, headers={"Location": location})
    if cookie is not None:
        set_session_cookie(response, cookie, secure)
    return response


def set_session_cookie(response: Response, value: str, secure: bool, max_age: int | None = None) -> None:
    cast(aioweb.Response, response).set_cookie(
        SESSION_COOKIE,
        value,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure,
        max_age=int(SESSION_LIFETIME.total_seconds()) if max_age is None else max_age,
    )


async def read_form(request: Request) -> dict[str, str]:
    """The url-encoded form of a POST (single values; files and repeats ignored)."""
    form = await cast(aioweb.Request, request).post()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def open_console(triage: Triage) -> Console:
    """The console's shared plumbing, with its static files and security headers added to the web app."""
    console = Console(triage)
    if not console.govuk:
        log.warning(
            "console_assets_missing",
            path=str(GOVUK_CSS),
            detail="GOV.UK Frontend is not built; the console uses its fallback stylesheet. "
            "Run services/triage/console/assets.sh to build it.",
        )
    web_app = cast(Any, triage.app.web).web_app
    web_app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False)
    web_app.on_response_prepare.append(add_security_headers)
    return console
