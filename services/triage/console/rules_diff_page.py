"""`/console/rules-diff`: a manager uploads a candidate ruleset and sees the what-if replay of a period
(`sosafe rules diff` in the console). GET shows the form, POST (multipart, CSRF-checked like the console's
other forms) replays and answers the replay's HTML report. Nothing is changed: the live ruleset stays.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web as aioweb
from faust.web import Request, Response, View

from services.common.logs import get_logger
from services.triage.console.console import Console, Visit
from services.triage.read.replay_input import replay_diff
from services.triage.routing.replay_render import render as render_diff
from services.triage.routing.ruleset import parse_ruleset
from services.triage.routing.ruleset_errors import RulesetError

if TYPE_CHECKING:
    from services.triage.service import Triage

log = get_logger("sosafe.triage.console")

RULES_DIFF_URL = "/console/rules-diff"
MAX_RULESET_BYTES = 512 * 1024
DEFAULT_PERIOD = timedelta(days=90)
MAX_PERIOD = timedelta(days=366)


class FormProblem(ValueError):
    """What is wrong with the upload, in a sentence for the manager."""


def period_of(since_text: str, until_text: str, now: datetime) -> tuple[datetime, datetime]:
    """[from, to) from the form's dates (midnight UTC); blank: the 90 days up to now."""
    try:
        until = datetime.combine(date.fromisoformat(until_text), time(0), UTC) if until_text else now
        since = datetime.combine(date.fromisoformat(since_text), time(0), UTC) if since_text else until - DEFAULT_PERIOD
    except ValueError:
        raise FormProblem("Give the dates as YYYY-MM-DD, or leave them blank.") from None
    if since >= until:
        raise FormProblem("The period must end after it starts.")
    if until - since > MAX_PERIOD:
        raise FormProblem("Replay at most a year at a time.")
    return since, until


def candidate_text(upload: Any) -> str:
    """The uploaded file's text: present, not over `MAX_RULESET_BYTES`, UTF-8."""
    if not isinstance(upload, aioweb.FileField):
        raise FormProblem("Choose a ruleset file to upload.")
    raw = upload.file.read(MAX_RULESET_BYTES + 1)
    if not raw:
        raise FormProblem("The ruleset file is empty.")
    if len(raw) > MAX_RULESET_BYTES:
        raise FormProblem(f"The ruleset file is larger than {MAX_RULESET_BYTES // 1024} KiB.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormProblem("The ruleset file is not UTF-8 text.") from None


def _form(
    console: Console, view: View, visit: Visit, status: int = 200, error: str | None = None, **values: str
) -> Response:
    return console.page(
        view,
        "rules_diff.html",
        visit,
        status=status,
        title="What-if replay",
        live_version=console.triage.ruleset.version,
        max_kib=MAX_RULESET_BYTES // 1024,
        error=error,
        since=values.get("since", ""),
        until=values.get("until", ""),
    )


def _refused(console: Console, view: View, request: Request, visit: Visit) -> Response | None:
    """The answer for anyone but a signed-in manager; None for a manager."""
    if visit.officer is None:
        return console.sign_in_redirect(view, request)
    if not visit.officer.manager:
        return console.problem(view, visit, 403, "Managers only", "The what-if replay is for managers.")
    return None


async def show_form(console: Console, view: View, request: Request) -> Response:
    visit = await console.visit(request)
    return _refused(console, view, request, visit) or _form(console, view, visit)


async def replay_upload(console: Console, view: View, request: Request) -> Response:
    """Check the session, the CSRF token, the file and the period; replay; answer the diff as HTML."""
    visit = await console.visit(request)
    refused = _refused(console, view, request, visit)
    if refused is not None:
        return refused
    form = await cast(aioweb.Request, request).post()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    if not console.csrf_ok(visit, fields):
        return console.forbidden_form(view, visit)
    since_text, until_text = fields.get("from", "").strip(), fields.get("to", "").strip()
    try:
        since, until = period_of(since_text, until_text, datetime.now(UTC))
        candidate = parse_ruleset(candidate_text(form.get("ruleset")), "uploaded ruleset")
    except (FormProblem, RulesetError) as exc:
        return _form(console, view, visit, 422, str(exc), since=since_text, until=until_text)
    triage = console.triage
    diff = await replay_diff(triage.view, triage.ruleset, candidate, since, until)
    assert visit.officer is not None
    log.info(
        "console_rules_diff",
        officer_id=visit.officer.id,
        candidate_version=candidate.version,
        replayed=diff.replayed,
        moved=diff.moved.referrals,
    )
    return view.html(render_diff(diff, f"{since.isoformat()} to {until.isoformat()}", "html"))


def register(triage: Triage) -> None:
    console = Console(triage)

    @triage.app.page(RULES_DIFF_URL, name="console_rules_diff")
    class RulesDiff(View):
        async def get(self, request: Request) -> Response:
            return await show_form(console, self, request)

        async def post(self, request: Request) -> Response:
            return await replay_upload(console, self, request)
