"""What the console's pages show, in the partnership's words (pure: the time is an argument)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas.audit import AuditAction, AuditEvent
from schemas.decision import Flag
from schemas.referral import Referral
from schemas.services_catalogue import display_name
from schemas.update import ReferralUpdate
from schemas.vocabulary import Priority, Service
from services.triage.cases.case import ItemState, QueueItem
from services.triage.cases.trail import REASON_CODES
from services.triage.cases.updates import information_fields

PRIORITY_TAGS = {Priority.urgent: "red", Priority.high: "orange", Priority.medium: "yellow", Priority.standard: "grey"}
FLAG_TAGS = {
    Flag.marac: ("MARAC", "red"),
    Flag.immediate_danger: ("Immediate danger", "red"),
    Flag.safeguarding_child: ("Safeguarding child", "orange"),
    Flag.repeat: ("Repeat", "purple"),
    Flag.children_in_household: ("Children in household", "grey"),
    Flag.nrm_child: ("NRM child", "grey"),
    Flag.duty_to_notify: ("Duty to notify", "grey"),
    Flag.do_not_contact_directly: ("Do not contact directly", "red"),
}
PROMINENT_FLAGS = (
    Flag.immediate_danger,
    Flag.do_not_contact_directly,
    Flag.marac,
    Flag.safeguarding_child,
    Flag.repeat,
)
STATE_TAGS = {
    ItemState.new: "blue",
    ItemState.claimed: "light-blue",
    ItemState.accepted: "green",
    ItemState.declined: "pink",
    ItemState.reassigned: "grey",
    ItemState.closed: "grey",
}
AUDIT_LABELS = {
    AuditAction.submitted: "Submitted by partner",
    AuditAction.accepted: "Accepted by intake",
    AuditAction.duplicate: "Duplicate submission",
    AuditAction.rejected: "Rejected by intake",
    AuditAction.triaged: "Triaged",
    AuditAction.queued: "Queued",
    AuditAction.claimed: "Claimed",
    AuditAction.item_accepted: "Accepted by the service",
    AuditAction.declined: "Declined",
    AuditAction.reassigned: "Reassigned",
    AuditAction.closed: "Closed",
    AuditAction.escalated: "Escalated",
    AuditAction.notified: "Notification sent",
    AuditAction.notification_failed: "Notification failed",
    AuditAction.dead_lettered: "Dead-lettered",
    AuditAction.information_added: "New information from the referrer",
    AuditAction.withdrawn: "Withdrawn by the referrer",
}
ACTION_DONE = {
    "claim": "You claimed this referral.",
    "accept": "You accepted this referral.",
    "decline": "You declined this referral.",
    "reassign": "You reassigned this referral.",
    "close": "You closed this referral.",
}


def label(code: str) -> str:
    return code.replace("_", " ").capitalize()


def reason_options() -> list[tuple[str, str]]:
    """Reason codes for the decline, reassign and close forms, `other` last."""
    return [(code, label(code)) for code in sorted(REASON_CODES, key=lambda c: (c == "other", c))]


def service_name(service: Service | str) -> str:
    try:
        return display_name(Service(service))
    except ValueError:
        return str(service)


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC")


def span(seconds: float) -> str:
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    if hours or days:
        parts.append(f"{hours} h")
    parts.append(f"{minutes} min")
    return " ".join(parts)


@dataclass(frozen=True)
class Deadline:
    due: str
    left: str
    overdue: bool


def deadline(item: QueueItem, now: datetime) -> Deadline:
    seconds = (item.due_at - now).total_seconds()
    if seconds < 0:
        return Deadline(when(item.due_at), f"Overdue by {span(-seconds)}", item.is_open)
    return Deadline(when(item.due_at), f"{span(seconds)} left", False)


def flags(item_flags: list[Flag]) -> list[dict[str, str]]:
    ordered = [f for f in PROMINENT_FLAGS if f in item_flags] + [f for f in item_flags if f not in PROMINENT_FLAGS]
    return [{"code": f.value, "text": FLAG_TAGS[f][0], "colour": FLAG_TAGS[f][1]} for f in ordered]


def item_view(item: QueueItem, now: datetime) -> dict[str, Any]:
    return {
        "referral_id": item.referral_id,
        "short_id": item.referral_id[:8],
        "service": item.service.value,
        "service_name": service_name(item.service),
        "priority": item.priority.value,
        "priority_colour": PRIORITY_TAGS[item.priority],
        "state": item.state.value,
        "state_colour": STATE_TAGS[item.state],
        "is_open": item.is_open,
        "deadline": deadline(item, now),
        "flags": flags(item.flags),
        "claimed_by": item.claimed_by,
        "rule_ids": item.rule_ids,
        "reasons": item.reasons,
        "ruleset_version": item.ruleset_version,
        "final_reason": item.final_reason,
        "withdrawn": item.withdrawn,
        "replaces": replaced_items(item),
    }


def replaced_items(item: QueueItem) -> str | None:
    """The items this one stands in for, in words: "the SADA item", "the SADA, SOS youth violence
    project and No More Service items"."""
    names = [service_name(service) for service in item.replaces_all]
    if len(names) < 2:
        return f"the {names[0]} item" if names else None
    return f"the {', '.join(names[:-1])} and {names[-1]} items"


def signature(parts: list[str]) -> str:
    """A short digest of what a live region shows, so the page announces only real changes."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def detail_text(key: str, value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if key.endswith("_at") and isinstance(value, str):
        try:
            return when(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def timeline(events: list[AuditEvent]) -> list[dict[str, Any]]:
    return [
        {
            "action": e.action.value,
            "label": AUDIT_LABELS.get(e.action, label(e.action.value)),
            "when": when(e.occurred_at),
            "iso": e.occurred_at.isoformat(),
            "actor": e.actor,
            "actor_kind": e.actor_kind.value,
            "details": [(label(k), detail_text(k, v)) for k, v in e.details.items() if v not in (None, [], "")],
        }
        for e in events
    ]


def referrer_updates(updates: list[ReferralUpdate]) -> list[dict[str, str]]:
    """What the referrer added after sending the referral, oldest first: when, what and any addendum."""
    shown = []
    for update in updates:
        if update.withdrawal is not None:
            what, addendum = f"Withdrawn: {label(update.withdrawal.reason.value)}", ""
        else:
            assert update.information is not None
            what = "New information: " + ", ".join(label(f) for f in information_fields(update.information))
            addendum = update.information.narrative_addendum or ""
        shown.append({"when": when(update.received_at), "what": what, "addendum": addendum})
    return shown


def yes_no(value: bool | None) -> str:
    return "Not known" if value is None else ("Yes" if value else "No")


def referral_details(referral: Referral) -> dict[str, list[tuple[str, str]]]:
    """The referral as summary-list rows: who it is about, the concerns and risk, consent and source."""
    sub = referral.submission
    person = sub.subject
    name = " ".join(p for p in (person.given_name, person.family_name) if p) or "Not given"
    born = (
        person.date_of_birth.strftime("%d %B %Y")
        if person.date_of_birth
        else (f"Age {person.age}" if person.age is not None else "Not given")
    )
    return {
        "Subject": [
            ("Name", name),
            ("Date of birth", born),
            ("Gender", person.gender or "Not given"),
            ("Postcode", person.postcode or "Not given"),
            ("District", label(person.district.value) if person.district else "Not given"),
            ("Phone", person.phone or "Not given"),
            ("Email", str(person.email or "Not given")),
            ("Safe to contact", yes_no(person.safe_to_contact)),
            ("Interpreter", str(person.interpreter_language or "Not needed")),
            ("Role", label(sub.role.value)),
        ],
        "Concerns and risk": [
            ("Concerns", ", ".join(label(c.value) for c in sub.concerns)),
            ("Risk level", label(sub.risk.level.value) if sub.risk.level else "Not assessed"),
            ("DASH score", str(sub.risk.dash_score) if sub.risk.dash_score is not None else "Not given"),
            ("Immediate danger", yes_no(sub.risk.immediate_danger)),
            (
                "Children under 18 in household",
                str(sub.household.children_under_18) if sub.household.children_under_18 is not None else "Not known",
            ),
            (
                "Custody release date",
                sub.custody.release_date.strftime("%d %B %Y") if sub.custody.release_date else "None",
            ),
        ],
        "Consent": [
            ("Consent obtained", yes_no(sub.consent.obtained)),
            ("Basis", label(sub.consent.basis.value) if sub.consent.basis else "Not given"),
        ],
        "Source": [
            ("Agency", label(sub.source.agency.value)),
            ("Organisation", sub.source.organisation),
            ("Their reference", sub.source.reference),
            ("Referrer", f"{sub.source.referrer.name} ({sub.source.referrer.role})"),
            (
                "Referrer contact",
                ", ".join(str(c) for c in (sub.source.referrer.email, sub.source.referrer.phone) if c) or "Not given",
            ),
            ("Received", when(referral.received_at)),
        ],
    }
