"""What each audit action writes in `AuditEvent.details`, as typed models: emitters build one and write
it with `wire()`, readers get it back with `details_as(event, Model)`.

The wire is unchanged: `details` stays a flat JSON object of ids, services and codes (never personal data)
and is hashed with the event, so a model here must write exactly the keys it always wrote. To add a
detail, add an optional field (events already written keep theirs as they were); never rename or retype
one. `DETAILS_OF` says which models an action's details may be.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError, field_serializer

from schemas.audit import AuditAction, AuditEvent, DetailValue
from schemas.decision import DecisionKind, Flag
from schemas.notification import NotificationChannel, NotificationKind
from schemas.vocabulary import Agency, Channel, Priority, Service


class AuditDetails(BaseModel):
    """The details of one audit event. Reading ignores keys a model does not know (an older or newer
    emitter's); writing can only set the fields declared."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    def wire(self) -> dict[str, DetailValue]:
        """The details as `AuditEvent.details` holds them: JSON values, fields left unset left out."""
        return self.model_dump(mode="json", exclude_none=True)


class ServiceDetails(AuditDetails):
    """Details of an event about one service's item (an officer sees it when the service is theirs)."""

    service: Service


class AdmissionDetails(AuditDetails):
    """intake `submitted`, then `accepted` or `duplicate`: a submission that became a referral."""

    channel: Channel
    submission_id: str
    agency: Agency


class RejectionDetails(AuditDetails):
    """intake `submitted`, then `rejected`: a submission that failed validation."""

    channel: Channel
    submission_id: str
    reason: str
    error_locations: list[str]
    raw_length: int
    raw_sha256: str


class TriagedDetails(AuditDetails):
    """triage `triaged`: a decision, initial or a follow-up of an officer action."""

    decision_id: str
    kind: DecisionKind
    ruleset_version: str
    services: list[Service]
    flags: list[Flag]


class _Deadline(ServiceDetails):
    priority: Priority
    due_at: AwareDatetime

    @field_serializer("due_at")
    def _iso(self, due_at: datetime) -> str:
        return due_at.isoformat()


class QueuedDetails(_Deadline):
    """triage `queued`: an item a decision created or changed, with its priority and deadline then."""

    rule_ids: list[str]


class OfficerActionDetails(ServiceDetails):
    """triage `claimed`, `item_accepted`, `declined`, `reassigned`, `closed`: an officer's applied action."""

    action_id: str
    to: Service | None = None
    """The service a reassignment sent the referral to."""
    reason_code: str | None = None
    """The reason as one of the report's codes (`other` for free text); never the officer's words."""


class EscalationDetails(_Deadline):
    """triage `escalated`: an open item past its deadline."""

    escalation_id: str


class DeliveryDetails(ServiceDetails):
    """notify `notified`, `notification_failed`, or `dead_lettered` when attempts ran out."""

    notification_id: str
    channel: NotificationChannel
    kind: NotificationKind
    attempt: int
    failure: str | None = None
    """The failure code of a failed attempt."""


class DeadLetterDetails(AuditDetails):
    """`dead_lettered` by any service: a message it could not process, set aside on `messages.dead`."""

    source_topic: str
    partition: int
    offset: int
    reason: str
    error_count: int
    raw_length: int
    raw_sha256: str


class InformationDetails(AuditDetails):
    """triage `information_added`: the referrer's new information, applied to the referral's routing facts."""

    update_id: str
    fields: list[str]
    """The fields the update carried (`risk.level`, `concerns`, `narrative_addendum`...), never their values."""
    decision_id: str | None = None
    """The follow-up decision it led to; absent when it changed no assignment."""
    services: list[Service] | None = None
    """The services the follow-up decision added or raised."""


class WithdrawalDetails(AuditDetails):
    """triage `withdrawn`: the referrer withdrew the referral."""

    update_id: str
    reason: str
    """The withdrawal's reason code (`schemas.update.WithdrawalReason`)."""
    services_closed: list[Service]
    """Unclaimed items closed as `withdrawn_by_referrer`."""
    services_marked: list[Service]
    """Claimed and accepted items left as they were, marked withdrawn; their teams are told."""


class RulesetLiveDetails(AuditDetails):
    """triage `ruleset_live`: a ruleset version went live, with the SHA-256 of the file it was loaded from."""

    ruleset_version: str
    sha256: str
    rules: int
    """How many rules it holds."""


_OFFICER_ACTIONS = (
    AuditAction.claimed,
    AuditAction.item_accepted,
    AuditAction.declined,
    AuditAction.reassigned,
    AuditAction.closed,
)
DETAILS_OF: Final[Mapping[AuditAction, tuple[type[AuditDetails], ...]]] = {
    AuditAction.submitted: (AdmissionDetails, RejectionDetails),
    AuditAction.accepted: (AdmissionDetails,),
    AuditAction.duplicate: (AdmissionDetails,),
    AuditAction.rejected: (RejectionDetails,),
    AuditAction.triaged: (TriagedDetails,),
    AuditAction.queued: (QueuedDetails,),
    **{action: (OfficerActionDetails,) for action in _OFFICER_ACTIONS},
    AuditAction.escalated: (EscalationDetails,),
    AuditAction.notified: (DeliveryDetails,),
    AuditAction.notification_failed: (DeliveryDetails,),
    AuditAction.dead_lettered: (DeliveryDetails, DeadLetterDetails),
    AuditAction.information_added: (InformationDetails,),
    AuditAction.withdrawn: (WithdrawalDetails,),
    AuditAction.ruleset_live: (RulesetLiveDetails,),
}
"""The models an action's details may be, each action's own first."""

Model = TypeVar("Model", bound=AuditDetails)


def details_of(event: AuditEvent) -> AuditDetails | None:
    """The event's details as the first of its action's models they fit; None when they fit none."""
    for kind in DETAILS_OF[event.action]:
        try:
            return kind.model_validate(event.details)
        except ValidationError:
            continue
    return None


def details_as(event: AuditEvent, model: type[Model]) -> Model | None:
    """The event's details as `model`; None when its action does not write that model or they do not fit."""
    details = details_of(event)
    return details if isinstance(details, model) else None
