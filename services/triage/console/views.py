"""The console's views: sign-in and out, the officer's queues, a queue, an item and its actions.

Pages poll small HTML parts (`.../parts/...`) through `static/console.js`, so they update without a reload.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from faust.web import Request, Response, View
from pydantic import ValidationError

from schemas.vocabulary import Service
from services.common.logs import get_logger
from services.triage.api.actions import Rejection, check_target, command_for, submit, throttle
from services.triage.api.officers import may_see
from services.triage.cases.trail import REASON_CODES
from services.triage.cases.updates import with_information
from services.triage.console.console import (
    Console,
    Visit,
    deep_link,
    item_url,
    open_console,
    read_form,
    redirect,
    safe_next,
    set_session_cookie,
    sign_in_url,
)
from services.triage.console.pages import (
    ACTION_DONE,
    item_view,
    referral_details,
    referrer_updates,
    signature,
    timeline,
)

if TYPE_CHECKING:
    from services.triage.service import Triage

log = get_logger("sosafe.triage.console")

NOTE_MAX = 400
REASONED = {"decline", "reassign", "close"}


async def queue_counts(console: Console, visit: Visit, now: datetime) -> dict[str, Any]:
    assert visit.officer is not None
    counts = await console.triage.view.open_and_overdue([s for s in Service if s in visit.officer.scope], now)
    rows = [{"service": s.value, "open": o, "overdue": d} for s, (o, d) in counts.items()]
    return {"queues": rows, "signature": signature([f"{r['service']}:{r['open']}:{r['overdue']}" for r in rows])}


async def queue_rows(console: Console, service: Service, state: str, now: datetime) -> dict[str, Any]:
    items = await console.triage.view.queue(service, "all" if state == "all" else "open")
    return {
        "items": [item_view(i, now) for i in items],
        "state_filter": state,
        "service": service.value,
        "signature": signature([f"{i.referral_id}:{i.state}:{i.claimed_by}" for i in items]),
    }


async def item_context(
    console: Console, visit: Visit, service: Service, referral_id: str, now: datetime
) -> dict[str, Any] | None:
    """Everything the item page shows, or None when the referral has no item in this queue."""
    assert visit.officer is not None
    case, record = await console.triage.view.referral(referral_id)
    item = case.items.get(service) if case else None
    if case is None or item is None:
        return None
    events = (await console.triage.view.trail(referral_id)).events
    shown = record is not None and may_see(visit.officer, case)
    news = [u.information for u in record.updates if u.information is not None] if record else []
    details = referral_details(with_information(record.referral, news)) if record and shown else None  # as now
    narrative = record.referral.submission.narrative if record and shown else None
    updates = referrer_updates(record.updates) if record and shown else []
    others = [item_view(i, now) for s, i in case.items.items() if s != service]
    return {
        "item": item_view(item, now),
        "details": details,
        "narrative": narrative,
        "updates": updates,
        "others": others,
        "timeline": timeline(events),
        "timeline_signature": signature([e.hash for e in events]),
        "status_signature": signature([item.state, item.claimed_by or "", item.due_at.isoformat()]),
        "base_url": item_url(service, referral_id),
    }


def form_errors(action: str, form: dict[str, str]) -> list[tuple[str, str]]:
    """(field id, message) for each problem with an action form, in page order."""
    errors = []
    if action == "reassign" and form.get("reassign-to") not in Service.__members__:
        errors.append(("reassign-to", "Select the service to reassign to"))
    if action in REASONED and form.get(f"{action}-reason") not in REASON_CODES:
        errors.append((f"{action}-reason", f"Select a reason to {action}"))
    if len(form.get(f"{action}-note", "")) > NOTE_MAX:
        errors.append((f"{action}-note", f"The note must be {NOTE_MAX} characters or fewer"))
    return errors


def reason_of(action: str, form: dict[str, str]) -> str | None:
    """`code` or `code: note` (the audit keeps only the code, see trail.reason_code)."""
    if action not in REASONED:
        return None
    code, note = form[f"{action}-reason"], " ".join(form.get(f"{action}-note", "").split())
    return f"{code}: {note}" if note else code


def now() -> datetime:
    return datetime.now(UTC)


async def home(console: Console, view: View, request: Request) -> Response:
    """`GET /`: the officer's queues (or a deep link followed after sign-in)."""
    visit, target = await console.visit(request), deep_link(request.query)
    if visit.officer is None:
        return redirect(view, sign_in_url(target))
    if target is not None:
        return redirect(view, target)
    return console.page(view, "home.html", visit, title="Your queues", **await queue_counts(console, visit, now()))


async def home_part(console: Console, view: View, request: Request) -> Response:
    visit = await console.visit(request)
    if visit.officer is None:
        return view.text("Sign in again.", status=401)
    return view.html(console.render("_queues.html", visit, **await queue_counts(console, visit, now())))


async def sign_in_form(console: Console, view: View, request: Request) -> Response:
    visit = await console.visit(request)
    if visit.officer is not None:
        return redirect(view, "/")
    return console.page(
        view,
        "sign_in.html",
        console.with_anonymous_session(visit),
        title="Sign in",
        next=safe_next(request.query.get("next")) or "",
        error=None,
    )


async def sign_in(triage: Triage, console: Console, view: View, request: Request) -> Response:
    """`POST /console/sign-in`: an officer token for a signed session bound to that token."""
    form, visit = await read_form(request), await console.visit(request)
    if not console.csrf_ok(visit, form):
        return console.forbidden_form(view, visit)
    token = form.get("token", "").strip()
    officer = triage.tokens.officer(token) if 0 < len(token) <= 512 else None
    target = safe_next(form.get("next")) or "/"
    if officer is None:
        log.info("console_sign_in_refused")
        return console.page(
            view,
            "sign_in.html",
            visit,
            status=401,
            title="Sign in",
            next=target,
            error="Enter a valid officer token",
        )
    _, cookie = console.signer.issue(officer.id, now(), officer.token_sha256)
    log.info("console_signed_in", officer_id=officer.id)
    return redirect(view, target, cookie, visit.secure)


async def sign_out(console: Console, view: View, request: Request) -> Response:
    """`POST /console/sign-out`: the session is revoked on every replica, and its cookie cleared."""
    form, visit = await read_form(request), await console.visit(request)
    if not console.csrf_ok(visit, form):
        return console.forbidden_form(view, visit)
    await console.sign_out(visit)
    log.info("console_signed_out", officer_id=visit.officer.id if visit.officer else None)
    response = redirect(view, "/console/sign-in")
    set_session_cookie(response, "", visit.secure, max_age=0)
    return response


async def queue(console: Console, view: View, request: Request, service: str) -> Response:
    visit = await console.visit(request)
    if visit.officer is None:
        return console.sign_in_redirect(view, request)
    wanted = console.scope_problem(view, visit, service)
    if not isinstance(wanted, Service):
        return wanted
    state = "all" if request.query.get("state") == "all" else "open"
    return console.page(
        view, "queue.html", visit, title=f"{wanted} queue", **await queue_rows(console, wanted, state, now())
    )


async def queue_part(console: Console, view: View, request: Request, service: str) -> Response:
    visit = await console.visit(request)
    if visit.officer is None:
        return view.text("Sign in again.", status=401)
    wanted = console.scope_problem(view, visit, service)
    if not isinstance(wanted, Service):
        return wanted
    state = "all" if request.query.get("state") == "all" else "open"
    return view.html(console.render("_queue_table.html", visit, **await queue_rows(console, wanted, state, now())))


async def item_page(
    console: Console,
    view: View,
    request: Request,
    visit: Visit,
    service: str,
    referral_id: str,
    status: int = 200,
    errors: tuple[tuple[str, str], ...] = (),
    form: dict[str, str] | None = None,
) -> Response:
    wanted = console.scope_problem(view, visit, service)
    if not isinstance(wanted, Service):
        return wanted
    context = await item_context(console, visit, wanted, referral_id, now())
    if context is None:
        return console.problem(view, visit, 404, "Page not found", "This referral has no item in this queue.")
    done = ACTION_DONE.get(request.query.get("done", "")) if status == 200 else None
    return console.page(
        view,
        "item.html",
        visit,
        status=status,
        title=f"Referral {referral_id[:8]}",
        errors=list(errors),
        error_for=dict(errors),
        done=done,
        form=form or {},
        **context,
    )


async def item(console: Console, view: View, request: Request, service: str, referral_id: str) -> Response:
    visit = await console.visit(request)
    if visit.officer is None:
        return console.sign_in_redirect(view, request)
    return await item_page(console, view, request, visit, service, referral_id)


async def item_part(
    console: Console, view: View, request: Request, service: str, referral_id: str, part: str
) -> Response:
    visit = await console.visit(request)
    if visit.officer is None:
        return view.text("Sign in again.", status=401)
    wanted = console.scope_problem(view, visit, service)
    if not isinstance(wanted, Service):
        return wanted
    context = await item_context(console, visit, wanted, referral_id, now())
    if context is None or part not in ("status", "timeline"):
        return view.text("Not found.", status=404)
    return view.html(console.render(f"_item_{part}.html", visit, **context))


async def item_action(
    triage: Triage, console: Console, view: View, request: Request, service: str, referral_id: str, action: str
) -> Response:
    """`POST` an officer's action from the item page: checked, published, and the page shown again."""
    form, visit = await read_form(request), await console.visit(request)
    if not console.csrf_ok(visit, form):
        return console.forbidden_form(view, visit)
    if visit.officer is None:
        return console.sign_in_redirect(view, request)
    limited = throttle(triage, visit.officer)
    if limited is not None:
        response = console.problem(view, visit, 429, "Too many actions", "Nothing was changed. " + limited.detail)
        response.headers.update(limited.headers)
        return response
    target = await check_target(triage, visit.officer, service, referral_id, action)
    if isinstance(target, Rejection):
        return await item_page(
            console, view, request, visit, service, referral_id, target.status, (("", target.detail),)
        )
    errors = form_errors(action, form)
    if errors:
        return await item_page(console, view, request, visit, service, referral_id, 422, tuple(errors), form)
    try:
        command = command_for(
            visit.officer,
            target,
            referral_id,
            action,
            reason_of(action, form),
            form.get("reassign-to") if action == "reassign" else None,
        )
    except ValidationError:
        return await item_page(
            console, view, request, visit, service, referral_id, 422, (("", "The action is not valid."),), form
        )
    outcome = await submit(triage, command)
    if isinstance(outcome, Rejection):
        detail = outcome.detail[:1].upper() + outcome.detail[1:]
        return await item_page(console, view, request, visit, service, referral_id, outcome.status, (("", detail),))
    log.info(
        "console_action_applied",
        officer_id=visit.officer.id,
        action=action,
        referral_id=referral_id,
        service=target.value,
    )
    return redirect(view, f"{item_url(target, referral_id)}?done={action}")


def register(triage: Triage) -> None:
    """Bind the console's handlers above to its routes."""
    console = open_console(triage)
    app = triage.app

    @app.page("/", name="console_home")
    async def home_page(self: View, request: Request) -> Response:
        return await home(console, self, request)

    @app.page("/console/parts/queues", name="console_part_queues")
    async def home_part_page(self: View, request: Request) -> Response:
        return await home_part(console, self, request)

    @app.page("/console/sign-in", name="console_sign_in")
    class SignIn(View):
        async def get(self, request: Request) -> Response:
            return await sign_in_form(console, self, request)

        async def post(self, request: Request) -> Response:
            return await sign_in(triage, console, self, request)

    @app.page("/console/sign-out", name="console_sign_out")
    class SignOut(View):
        async def post(self, request: Request) -> Response:
            return await sign_out(console, self, request)

    @app.page("/console/queues/{service}", name="console_queue")
    async def queue_page(self: View, request: Request, service: str) -> Response:
        return await queue(console, self, request, service)

    @app.page("/console/queues/{service}/parts/table", name="console_part_queue")
    async def queue_part_page(self: View, request: Request, service: str) -> Response:
        return await queue_part(console, self, request, service)

    @app.page("/console/queues/{service}/items/{referral_id}", name="console_item")
    async def item_view(self: View, request: Request, service: str, referral_id: str) -> Response:
        return await item(console, self, request, service, referral_id)

    @app.page("/console/queues/{service}/items/{referral_id}/parts/{part}", name="console_part_item")
    async def item_part_page(self: View, request: Request, service: str, referral_id: str, part: str) -> Response:
        return await item_part(console, self, request, service, referral_id, part)

    @app.page("/console/queues/{service}/items/{referral_id}/{action}", name="console_item_action")
    class ItemAction(View):
        async def post(self, request: Request, service: str, referral_id: str, action: str) -> Response:
            return await item_action(triage, console, self, request, service, referral_id, action)
