"""`sosafe rules check|explain|diff`: check a ruleset, show how one referral would be routed, and replay a
period's referrals under a candidate ruleset to see what it would move."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas.identity import referral_id_for
from schemas.referral import Referral
from schemas.submission import ReferralSubmission
from services.triage.routing.explain_text import render
from services.triage.routing.rules import explain as explain_referral
from services.triage.routing.ruleset import DEFAULT_RULESET_PATH, load_ruleset
from services.triage.routing.ruleset_errors import RulesetError


class ReferralFileError(ValueError):
    """A referral file that is neither a submission v1 nor a canonical referral."""


def check(path: str) -> int:
    """Print "ok: <version>, N rules", or the ruleset's one-sentence error on stderr; 0 or 1."""
    try:
        ruleset = load_ruleset(path)
    except RulesetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"ok: {ruleset.version}, {len(ruleset.rules)} rules")
    if ruleset.holidays_run_out(datetime.now(UTC).date()):
        print(
            "warning: the shipped bank holidays end within a year; refresh the file (docs/routing.md)",
            file=sys.stderr,
        )
    return 0


def explain(referral_path: str, ruleset_path: str | None, at: str | None) -> int:
    """Print how the referral in `referral_path` is routed at `at` (default: when it was sent); 0 or 1."""
    try:
        ruleset = load_ruleset(ruleset_path or DEFAULT_RULESET_PATH)
        moment = _moment(at)
        referral = read_referral(referral_path, moment)
    except (RulesetError, ReferralFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    now = moment or referral.accepted_at
    print(render(explain_referral(referral, ruleset, now, history=())), end="")
    return 0


def diff(
    candidate_path: str,
    live_path: str | None,
    start: str | None,
    end: str | None,
    fmt: str,
    database_url: str | None,
) -> int:
    """Replay [start, end)'s accepted referrals under the live ruleset and the candidate; print what moved.

    0 when nothing would change, 1 when something would (or on an error, said on stderr)."""
    import asyncio

    from services.triage.read.database import open_engine, read_model_url
    from services.triage.read.queries import ReadModel
    from services.triage.read.replay_input import replay_diff
    from services.triage.routing.replay import Diff
    from services.triage.routing.replay_render import render as render_diff
    from services.triage.settings import TriageSettings

    try:
        candidate = load_ruleset(candidate_path)
        live = load_ruleset(live_path) if live_path else None
        until = _day(end, "--to") if end else datetime.now(UTC)
        since = _day(start, "--from") if start else until - timedelta(days=90)
    except (RulesetError, ReferralFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if since >= until:
        print("error: --from must be before --to", file=sys.stderr)
        return 1
    settings = TriageSettings()
    live = live or load_ruleset(settings.ruleset_file)
    url = database_url or read_model_url(settings)

    async def replay(live: Any) -> Diff:
        engine = open_engine(url)
        try:
            return await replay_diff(ReadModel(engine), live, candidate, since, until)
        finally:
            await engine.dispose()

    result = asyncio.run(replay(live))
    print(render_diff(result, f"{since.isoformat()} to {until.isoformat()}", fmt), end="")
    return 1 if result.changed else 0


def _day(text: str, option: str) -> datetime:
    """A bare date (midnight UTC) or an ISO time with a zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ReferralFileError(f"{option} {text!r} is not an ISO 8601 date") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def read_referral(path: str, at: datetime | None = None) -> Referral:
    """A canonical referral from a JSON file holding either a submission v1 or a `Referral`.

    A submission is wrapped as intake would accept it: partner "cli", channel "http", received and
    accepted at `at` (else its `submitted_at`), with no subject key.
    """
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReferralFileError(f"cannot read {path} ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise ReferralFileError(f"{path} is not valid JSON (line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise ReferralFileError(f"{path} must hold a JSON object")
    is_referral = "referral_version" in data or "submission" in data
    try:
        if is_referral:
            return Referral.model_validate(data)
        submission = ReferralSubmission.model_validate(data)
    except ValidationError as exc:
        kind = "canonical referral" if is_referral else "referral submission v1"
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "(the whole object)"
        raise ReferralFileError(f"{path} is not a valid {kind}: field '{field}': {first['msg']}") from exc
    accepted = at or submission.submitted_at
    referral_id = referral_id_for(submission.source.system, submission.source.reference)
    return Referral(
        referral_id=referral_id,
        submission_id=referral_id,
        partner_id="cli",
        channel="http",
        received_at=accepted,
        accepted_at=accepted,
        subject_key=None,
        submission=submission,
    )


def _moment(at: str | None) -> datetime | None:
    if at is None:
        return None
    try:
        moment = datetime.fromisoformat(at)
    except ValueError as exc:
        raise ReferralFileError(f"--at {at!r} is not an ISO 8601 date and time") from exc
    if moment.tzinfo is None:
        raise ReferralFileError(f"--at {at!r} needs a time zone, e.g. 2026-11-26T10:00:00Z")
    return moment
