"""The partnership's KPI report (`GET /v1/reports/kpis`): pure, no I/O and no clock reads.

The cohort is every referral *accepted* in ``[start, end)``; what became of its queue items is read as
known at ``as_of`` (the report's own time, ``end`` unless given). Figures: referrals by source agency,
queue items by service, referrals and items by priority, referrals by strategy objective, time to claim
and to accept per service, source agency, priority and objective (median and 90th percentile,
nearest-rank), SLA compliance per service and
priority, and declines, reassignments and closures with their reason codes. `docs/reports.md` says what
each figure means for the JAG/RAG papers.

A queue item's life is read from the referral's audit trail: it starts at a `queued` event for a service
with no open item (the decision time), a later `queued` for the same open item merges into it (priority and
deadline as the event states them), `claimed` marks its first claim and `item_accepted`, `declined`,
`reassigned` or `closed` ends it. The case's current items fill in what the trail does not hold yet.

Strategy objectives (SoSafe Community Safety Strategy 2021-24, "SoSafe Objectives", "How our services
support the objectives" and the five objective chapters): their titles and each service's objectives are in
the service catalogue (`schemas/services_catalogue.py`), the concerns' here (`CONCERN_OBJECTIVES`). A
referral counts once under each objective it supports: when one of its concerns maps to the objective, or
when a service mapped to it took the referral on (accepted it, closed it, or still holds it open; a decline
or reassignment away does not count). A referral can support several objectives, so the objective rows add
up to more than the referral total.

1. Divert young people from becoming involved in crime and ASB -- services `sos` (the SOS youth violence
   project, chapter one) and `no_more` (listed under objective one: the youth violence support is brought
   under the No More Service); concerns violent_crime, gang_involvement, county_lines, knife_crime,
   exploitation (the routing rules' youth-violence concerns; chapter one's knife crime, gangs and
   exploitation) and missing_episodes, education_exclusion (chapter one's "leaving education" and the SOS
   case study).
2. Provide safe reporting and support to domestic abuse survivors and victims of modern slavery -- services
   `sada`, `modern_slavery`; concerns domestic_abuse, modern_slavery.
3. Promote reporting of hate crime and further promote equality in the community -- service `hate_crime`
   (the Hate Crime Strategy); concern hate_crime.
4. Tackle the harms caused by drugs and alcohol -- service `no_more`; concerns substance_misuse, offending
   (chapter four: "break the cycle of substance misuse or offending behaviour").
5. Work with partners to encourage reporting of crime and address perceptions of crime -- service `mnwg`
   (the multi-agency Multiple Needs Working Group, partnership work); concern antisocial_behaviour.

The strategy lists the No More Service under both objective one and objective four, so a referral No More
takes on counts under both, once each. mental_health and homelessness map to no objective of their own:
the strategy meets them through the services above. `manual_review` maps to none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.audit import AuditAction, AuditEvent
from schemas.audit_details import OfficerActionDetails, QueuedDetails, details_as
from schemas.decision import DecisionKind, TriageDecision
from schemas.services_catalogue import CATALOGUE, OBJECTIVES
from schemas.vocabulary import PRIORITY_RANK, Agency, Concern, Priority, Service
from services.triage.cases.case import Case, ItemState, QueueItem
from services.triage.cases.records import ReferralRecord
from services.triage.cases.trail import Trail, reason_code
from services.triage.reports.by_ruleset import RulesetVersionRow, by_ruleset_version
from services.triage.reports.working_days import one_working_day_after, report_calendar
from services.triage.routing.working_hours import WorkingCalendar

CONCERN_OBJECTIVES: dict[Concern, frozenset[int]] = {
    **{
        c: frozenset({1})
        for c in (
            Concern.violent_crime,
            Concern.gang_involvement,
            Concern.county_lines,
            Concern.knife_crime,
            Concern.exploitation,
            Concern.missing_episodes,
            Concern.education_exclusion,
            # Objective one's chapter names "online safety, and sexual exploitation" among "the four main
            # threats to young people" (Operation Educ8).
            Concern.child_sexual_exploitation,
            Concern.online_harm,
        )
    },
    Concern.domestic_abuse: frozenset({2}),
    # DASH is the "domestic abuse, stalking and honour based violence" risk assessment; SADA takes both.
    Concern.stalking: frozenset({2}),
    Concern.honour_based_abuse: frozenset({2}),
    Concern.modern_slavery: frozenset({2}),
    Concern.hate_crime: frozenset({3}),
    Concern.substance_misuse: frozenset({4}),
    Concern.offending: frozenset({4}),
    Concern.antisocial_behaviour: frozenset({5}),
    Concern.mental_health: frozenset(),
    Concern.homelessness: frozenset(),
}
UNTRIAGED = "untriaged"
NOT_GIVEN = "not_given"
_ENDINGS: dict[AuditAction, ItemState] = {
    AuditAction.item_accepted: ItemState.accepted,
    AuditAction.declined: ItemState.declined,
    AuditAction.reassigned: ItemState.reassigned,
    AuditAction.closed: ItemState.closed,
}
_HANDED_ON = frozenset({ItemState.declined, ItemState.reassigned})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReportInput(_Frozen):
    """What triage holds about one referral: when it was accepted, its decisions, items and audit trail."""

    referral_id: str
    accepted_at: AwareDatetime
    received_at: AwareDatetime | None = None
    """When intake received it (the referrer's clock starts here); None: taken as `accepted_at`."""
    source_agency: str
    concerns: list[str]
    decisions: list[TriageDecision] = Field(default_factory=list)
    items: list[QueueItem] = Field(default_factory=list)
    events: list[AuditEvent] = Field(default_factory=list)

    @classmethod
    def of(cls, record: ReferralRecord, case: Case | None, trail: Trail | None) -> ReportInput:
        submission = record.referral.submission
        return cls(
            referral_id=record.referral.referral_id,
            accepted_at=record.referral.accepted_at,
            received_at=record.referral.received_at,
            source_agency=submission.source.agency.value,
            concerns=[concern.value for concern in submission.concerns],
            decisions=list(record.decisions),
            items=list(case.items.values()) if case else [],
            events=list(trail.events) if trail else [],
        )


class Timing(_Frozen):
    count: int
    median_hours: float | None
    p90_hours: float | None


NO_TIMING = Timing(count=0, median_hours=None, p90_hours=None)


class SourceRow(_Frozen):
    source_agency: str
    referrals: int
    time_to_claim: Timing = NO_TIMING
    """Over the queue items of this agency's referrals (every service)."""
    time_to_accept: Timing = NO_TIMING


class ServiceRow(_Frozen):
    service: str
    referrals: int
    items: int
    accepted: int
    declined: int
    reassigned: int
    closed: int
    open: int
    time_to_claim: Timing
    time_to_accept: Timing
    sla_met: int
    sla_breached: int
    sla_compliance: float | None


class PriorityRow(_Frozen):
    priority: str
    referrals: int
    """Referrals whose initial decision's most pressing assignment has this priority."""
    items: int
    time_to_claim: Timing = NO_TIMING
    """Over the items of this priority, as `items` counts them."""
    time_to_accept: Timing = NO_TIMING


class ObjectiveRow(_Frozen):
    objective: int
    title: str
    referrals: int
    by_concern: int
    by_service: int
    time_to_claim: Timing = NO_TIMING
    """Over every queue item of the referrals counted under this objective."""
    time_to_accept: Timing = NO_TIMING


class SlaRow(_Frozen):
    service: str
    priority: str
    met: int
    breached: int
    """Settled after the deadline, plus `open_past_due`."""
    open_past_due: int
    pending: int
    handed_on: int
    compliance: float | None


class ReasonRow(_Frozen):
    outcome: str
    """declined, reassigned or closed."""
    service: str
    reason_code: str
    to: str | None
    count: int


class ReferrerTold(_Frozen):
    """How soon referrers heard what happened: from receipt at intake to the first officer outcome they were
    told (claimed, accepted, declined, reassigned or closed; `triaged` is automatic and not counted)."""

    referrals_told: int
    time_to_first_outcome: Timing
    within_one_working_day: int
    share_within_one_working_day: float | None
    """Of the period's referrals: told within one working day of receipt (`working_days.py`)."""


OFFICER_OUTCOMES = frozenset(
    {AuditAction.claimed, AuditAction.item_accepted, AuditAction.declined, AuditAction.reassigned, AuditAction.closed}
)


def referrer_told(cohort: Sequence[ReportInput], as_of: datetime, calendar: WorkingCalendar) -> ReferrerTold:
    hours: list[float] = []
    within = 0
    for referral in cohort:
        told = [e.occurred_at for e in referral.events if e.action in OFFICER_OUTCOMES and e.occurred_at <= as_of]
        if not told:
            continue
        first, received = min(told), referral.received_at or referral.accepted_at
        hours.append((first - received).total_seconds() / 3600)
        within += first <= one_working_day_after(received, calendar)
    return ReferrerTold(
        referrals_told=len(hours),
        time_to_first_outcome=timing(hours),
        within_one_working_day=within,
        share_within_one_working_day=round(within / len(cohort), 4) if cohort else None,
    )


class KpiReport(_Frozen):
    report_version: Literal["1"] = "1"
    period_start: AwareDatetime
    period_end: AwareDatetime
    as_of: AwareDatetime
    referrals: int
    items: int
    by_source: list[SourceRow]
    by_service: list[ServiceRow]
    by_priority: list[PriorityRow]
    by_objective: list[ObjectiveRow]
    supporting_no_objective: int
    sla: list[SlaRow]
    outcomes: list[ReasonRow]
    referrer_told: ReferrerTold | None = None
    by_ruleset_version: list[RulesetVersionRow] = Field(default_factory=list)
    """Referrals decided per ruleset version and service (`reports/by_ruleset.py`)."""


@dataclass
class _Item:
    """One queue item's life, folded from the trail."""

    service: Service
    priority: Priority
    due_at: datetime
    created_at: datetime
    claimed_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: ItemState | None = None
    reason_code: str | None = None
    to: str | None = None


def parse_bound(text: str) -> datetime:
    """An ISO date (midnight UTC) or datetime (UTC when no offset is given); ValueError otherwise."""
    text = text.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def nearest_rank(values: Sequence[float], percent: int) -> float | None:
    """The smallest value with at least `percent`% of the values at or below it; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-percent * len(ordered) // 100))
    return ordered[rank - 1]


def timing(hours: Sequence[float]) -> Timing:
    median, p90 = nearest_rank(hours, 50), nearest_rank(hours, 90)
    return Timing(
        count=len(hours),
        median_hours=None if median is None else round(median, 2),
        p90_hours=None if p90 is None else round(p90, 2),
    )


def timings(items: Iterable[_Item]) -> tuple[Timing, Timing]:
    """Time to claim (claimed items) and time to accept (accepted items), from each item's creation."""
    items = list(items)
    claim = [(i.claimed_at - i.created_at).total_seconds() / 3600 for i in items if i.claimed_at]
    accept = [
        (i.ended_at - i.created_at).total_seconds() / 3600
        for i in items
        if i.ended_at and i.outcome is ItemState.accepted
    ]
    return timing(claim), timing(accept)


def _share(met: int, breached: int) -> float | None:
    return round(met / (met + breached), 4) if met + breached else None


def _fold(events: Iterable[AuditEvent], as_of: datetime) -> tuple[list[_Item], dict[Service, _Item]]:
    items: list[_Item] = []
    current: dict[Service, _Item] = {}
    timeline = sorted(
        (e for e in events if e.emitted_by == "triage" and e.occurred_at <= as_of), key=lambda e: e.occurred_at
    )
    for event in timeline:
        if event.action is AuditAction.queued:
            queued = details_as(event, QueuedDetails)
            if queued is None:
                continue
            item = current.get(queued.service)
            if item is None:
                item = _Item(queued.service, queued.priority, queued.due_at, event.occurred_at)
                items.append(item)
                current[queued.service] = item
            else:
                item.priority, item.due_at = queued.priority, queued.due_at
            continue
        acted = details_as(event, OfficerActionDetails)
        item = current.get(acted.service) if acted is not None else None
        if acted is None or item is None:
            continue
        if event.action is AuditAction.claimed:
            item.claimed_at = item.claimed_at or event.occurred_at
        elif event.action in _ENDINGS:
            item.ended_at, item.outcome = event.occurred_at, _ENDINGS[event.action]
            item.reason_code, item.to = acted.reason_code, acted.to.value if acted.to else None
            del current[acted.service]
    return items, current


def items_of(referral: ReportInput, as_of: datetime) -> list[_Item]:
    """The referral's queue items as known at `as_of`: the trail, with the case filling its gaps."""
    items, current = _fold(referral.events, as_of)
    for queued in referral.items:
        if queued.created_at > as_of:
            continue
        known = next((i for i in items if i.service is queued.service and i.created_at == queued.created_at), None)
        if known is None:
            known = _Item(queued.service, queued.priority, queued.due_at, queued.created_at)
            items.append(known)
        elif current.get(queued.service) is known:
            known.priority, known.due_at = queued.priority, queued.due_at
        if known.outcome is None and not queued.is_open and queued.updated_at <= as_of:
            known.ended_at, known.outcome = queued.updated_at, queued.state
            known.reason_code = reason_code(queued.final_reason)
    return items


def _priority_of(decisions: Sequence[TriageDecision], as_of: datetime) -> str:
    made = [d for d in decisions if d.decided_at <= as_of]
    initial = [d for d in made if d.kind is DecisionKind.initial] or made
    priorities = [a.priority for d in initial for a in d.assignments]
    return min(priorities, key=PRIORITY_RANK.__getitem__).value if priorities else UNTRIAGED


def _objectives(concerns: Iterable[str], taken_on: Iterable[Service]) -> tuple[set[int], set[int]]:
    by_concern = {o for c in concerns if c in Concern.__members__ for o in CONCERN_OBJECTIVES[Concern(c)]}
    return by_concern, {o for s in taken_on for o in CATALOGUE[s].objectives}


def compute_kpis(
    referrals: Iterable[ReportInput],
    start: datetime,
    end: datetime,
    as_of: datetime | None = None,
    calendar: WorkingCalendar | None = None,
) -> KpiReport:
    """The KPI report over referrals accepted in [start, end), outcomes as known at `as_of` (default end).
    `calendar` is the working calendar of "told within one working day": the live ruleset's, so the KPI and
    the SLA count the same days (default: the default working week and the shipped bank holidays)."""
    if end <= start:
        raise ValueError("the period must end after it starts")
    as_of = as_of or end
    cohort = [r for r in referrals if start <= r.accepted_at < end]
    sources: Counter[str] = Counter(r.source_agency for r in cohort)
    referral_priority: Counter[str] = Counter()
    objective_counts: dict[int, Counter[str]] = {o: Counter() for o in OBJECTIVES}
    unmapped = 0
    service_referrals: Counter[Service] = Counter()
    items: list[_Item] = []
    source_items: dict[str, list[_Item]] = {}
    objective_items: dict[int, list[_Item]] = {o: [] for o in OBJECTIVES}
    for referral in cohort:
        mine = items_of(referral, as_of)
        items.extend(mine)
        source_items.setdefault(referral.source_agency, []).extend(mine)
        referral_priority[_priority_of(referral.decisions, as_of)] += 1
        service_referrals.update({item.service for item in mine})
        by_concern, by_service = _objectives(
            referral.concerns, {i.service for i in mine if i.outcome not in _HANDED_ON}
        )
        for objective in by_concern | by_service:
            objective_items[objective].extend(mine)
            objective_counts[objective].update(
                [
                    "referrals",
                    *(["by_concern"] if objective in by_concern else []),
                    *(["by_service"] if objective in by_service else []),
                ]
            )
        unmapped += not (by_concern or by_service)
    return KpiReport(
        period_start=start,
        period_end=end,
        as_of=as_of,
        referrals=len(cohort),
        items=len(items),
        by_source=[
            SourceRow(source_agency=name, referrals=sources[name], **_timed(source_items.get(name, [])))
            for name in [a.value for a in Agency] + sorted(set(sources) - set(Agency.__members__))
        ],
        by_service=[
            _service_row(s, service_referrals[s], [i for i in items if i.service is s], as_of) for s in Service
        ],
        by_priority=[
            PriorityRow(
                priority=p,
                referrals=referral_priority[p],
                items=sum(i.priority.value == p for i in items),
                **_timed(i for i in items if i.priority.value == p),
            )
            for p in [*(p.value for p in Priority), UNTRIAGED]
            if p != UNTRIAGED or referral_priority[UNTRIAGED]
        ],
        by_objective=[
            ObjectiveRow(
                objective=o,
                title=title,
                referrals=objective_counts[o]["referrals"],
                by_concern=objective_counts[o]["by_concern"],
                by_service=objective_counts[o]["by_service"],
                **_timed(objective_items[o]),
            )
            for o, title in OBJECTIVES.items()
        ],
        supporting_no_objective=unmapped,
        sla=[
            row
            for s in Service
            for p in Priority
            if (row := _sla_row(s, p, [i for i in items if i.service is s and i.priority is p], as_of))
        ],
        outcomes=_outcomes(items),
        referrer_told=referrer_told(cohort, as_of, report_calendar(calendar)),
        by_ruleset_version=by_ruleset_version((r.decisions for r in cohort), as_of),
    )


def _timed(items: Iterable[_Item]) -> dict[str, Timing]:
    claim, accept = timings(items)
    return {"time_to_claim": claim, "time_to_accept": accept}


def _sla(item: _Item, as_of: datetime) -> Literal["met", "breached", "open_past_due", "pending", "handed_on"]:
    if item.outcome in _HANDED_ON:
        return "handed_on"
    if item.outcome is None or item.ended_at is None:
        return "open_past_due" if item.due_at < as_of else "pending"
    return "met" if item.ended_at <= item.due_at else "breached"


def _service_row(service: Service, referrals: int, items: Sequence[_Item], as_of: datetime) -> ServiceRow:
    states = Counter(i.outcome for i in items)
    sla = Counter(_sla(i, as_of) for i in items)
    breached = sla["breached"] + sla["open_past_due"]
    claim, accept = timings(items)
    return ServiceRow(
        service=service.value,
        referrals=referrals,
        items=len(items),
        accepted=states[ItemState.accepted],
        declined=states[ItemState.declined],
        reassigned=states[ItemState.reassigned],
        closed=states[ItemState.closed],
        open=states[None],
        time_to_claim=claim,
        time_to_accept=accept,
        sla_met=sla["met"],
        sla_breached=breached,
        sla_compliance=_share(sla["met"], breached),
    )


def _sla_row(service: Service, priority: Priority, items: Sequence[_Item], as_of: datetime) -> SlaRow | None:
    if not items:
        return None
    sla = Counter(_sla(i, as_of) for i in items)
    breached = sla["breached"] + sla["open_past_due"]
    return SlaRow(
        service=service.value,
        priority=priority.value,
        met=sla["met"],
        breached=breached,
        open_past_due=sla["open_past_due"],
        pending=sla["pending"],
        handed_on=sla["handed_on"],
        compliance=_share(sla["met"], breached),
    )


def _outcomes(items: Iterable[_Item]) -> list[ReasonRow]:
    counts: Counter[tuple[str, str, str, str]] = Counter(
        (i.outcome.value, i.service.value, i.reason_code or NOT_GIVEN, i.to or "")
        for i in items
        if i.outcome in (ItemState.declined, ItemState.reassigned, ItemState.closed)
    )
    return [
        ReasonRow(outcome=outcome, service=service, reason_code=code, to=to or None, count=n)
        for (outcome, service, code, to), n in sorted(counts.items())
    ]
