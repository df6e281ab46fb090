"""The KPI report's figures, checked against a plain count of what a simulated quarter of officers did."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from schemas.action import ActionKind, OfficerAction
from schemas.audit import AuditEvent
from schemas.decision import TriageDecision
from schemas.referral import Referral
from schemas.vocabulary import Agency, Priority, Service
from services.triage.cases.case import Case, ItemState, apply_decision
from services.triage.cases.queue import OfficerScope, apply_action
from services.triage.cases.records import ReferralRecord
from services.triage.cases.trail import Trail, action_events, decision_events
from services.triage.reports.kpis import (
    KpiReport,
    ObjectiveRow,
    PriorityRow,
    ReportInput,
    SourceRow,
    compute_kpis,
    nearest_rank,
    parse_bound,
    timing,
)
from services.triage.routing.rules import decide
from services.triage.routing.ruleset import Ruleset
from tests.triage.decision_factory import REFERRAL_ID, RULESET, T0, action, assignment, decision, due_at
from tests.triage.referral_factory import build_referral

START = datetime(2026, 4, 1, tzinfo=UTC)
END = datetime(2026, 7, 1, tzinfo=UTC)
AS_OF = END + timedelta(days=4)

# The strategy mapping, written out again here so the module's data is checked too.
OBJECTIVE_OF_SERVICE = {
    "sos": {1},
    "no_more": {1, 4},
    "sada": {2},
    "modern_slavery": {2},
    "hate_crime": {3},
    "mnwg": {5},
    "manual_review": set(),
    "asb": {1, 5},
    "youth_no_more": {1, 4, 5},
    "yc_herts": {1},
    "marac": {2},
}
OBJECTIVE_OF_CONCERN = {
    "violent_crime": {1},
    "gang_involvement": {1},
    "county_lines": {1},
    "knife_crime": {1},
    "exploitation": {1},
    "missing_episodes": {1},
    "education_exclusion": {1},
    "domestic_abuse": {2},
    "modern_slavery": {2},
    "hate_crime": {3},
    "substance_misuse": {4},
    "offending": {4},
    "antisocial_behaviour": {5},
    "stalking": {2},
    "honour_based_abuse": {2},
    "child_sexual_exploitation": {1},
    "online_harm": {1},
}

PROFILES = [
    {"concerns": ["domestic_abuse"], "role": "victim", "age": 30, "dash_score": 16},
    {"concerns": ["domestic_abuse"], "role": "victim", "age": 41, "children_under_18": 2},
    {"concerns": ["domestic_abuse"], "role": "perpetrator", "age": 35},
    {"concerns": ["domestic_abuse"], "role": "victim", "age": 13},
    {"concerns": ["modern_slavery"], "role": "victim", "age": 24},
    {"concerns": ["hate_crime"], "role": "victim", "age": 52},
    {"concerns": ["knife_crime"], "role": "at_risk", "age": 16},
    {"concerns": ["gang_involvement", "county_lines"], "role": "at_risk", "age": 19},
    {"concerns": ["substance_misuse"], "role": "at_risk", "age": 45},
    {"concerns": ["substance_misuse", "mental_health", "homelessness"], "role": "at_risk", "age": 33},
    {"concerns": ["antisocial_behaviour"], "role": "perpetrator", "age": 28},
    {"concerns": ["mental_health"], "role": "at_risk", "age": 60},
    {"concerns": ["offending"], "role": "perpetrator", "age": 30, "agency": "prison"},
]
REASONS = ["not_eligible", "out_of_area", "already_supported", "no_capacity", "wrong_service", "duplicate"]


@dataclass
class Expected:
    """One queue item as the simulation itself recorded it (no audit events involved)."""

    referral_id: str
    service: str
    priority: str
    created: datetime
    due: datetime
    claimed: datetime | None = None
    ended: datetime | None = None
    outcome: str | None = None
    code: str | None = None
    to: str | None = None


@dataclass
class Simulated:
    referral: Referral
    decisions: list[TriageDecision]
    case: Case
    events: list[AuditEvent]
    items: list[Expected]


def _referral(rng: random.Random, n: int) -> Referral:
    profile = dict(rng.choice(PROFILES))
    accepted = START - timedelta(days=10) + timedelta(minutes=rng.randrange(0, 60 * 24 * 111))
    if profile.get("agency") == "prison":
        profile["release_date"] = (accepted + timedelta(days=rng.choice([5, 40]))).date()
    else:
        profile["agency"] = rng.choice([a.value for a in Agency if a is not Agency.prison])
    if rng.random() < 0.05:
        profile["immediate_danger"] = True
    if rng.random() < 0.05:
        profile["district"] = "east_herts"
    if rng.random() < 0.05:
        profile["consent_obtained"] = False
    return build_referral(reference=f"KPI-{n:05d}", submitted_at=accepted, **profile)


def _simulate(rng: random.Random, referral: Referral, ruleset: Ruleset) -> Simulated:
    now = referral.accepted_at
    first = decide(referral, ruleset, now, [])
    case, created = apply_decision(None, first, now)
    events, head = decision_events(None, first, created)
    mine = [Expected(referral.referral_id, a.service.value, a.priority.value, now, a.due_at) for a in first.assignments]
    decisions = [first]
    for _ in range(6):
        open_items = [e for e in mine if e.outcome is None]
        if not open_items or rng.random() < 0.12:
            break  # the rest stays open
        target = rng.choice(open_items)
        now += timedelta(minutes=rng.randrange(5, 60 * 110))
        service = Service(target.service)
        free = [s for s in Service if s is not service and (s not in case.items or not case.items[s].is_open)]
        kind = rng.choices(
            [ActionKind.claim, ActionKind.accept, ActionKind.decline, ActionKind.reassign, ActionKind.close],
            weights=[5 if target.claimed is None else 0, 5, 2, 2 if free else 0, 1],
        )[0]
        code = rng.choice([*REASONS, "other", None])
        reason = None if code is None else ("Free text from the officer" if code == "other" else f"{code}: details")
        if kind in (ActionKind.decline, ActionKind.close) and reason is None:
            code, reason = "not_eligible", "not_eligible"
        to = rng.choice(free) if kind is ActionKind.reassign else None
        sent = OfficerAction(
            action_id=f"a-{referral.referral_id[:8]}-{len(events)}",
            referral_id=referral.referral_id,
            service=service,
            kind=kind,
            officer_id=f"officer-{service.value}",
            requested_at=now,
            reason=reason,
            to=to,
        )
        scope = OfficerScope(officer_id=f"officer-{service.value}", services=frozenset({service}))
        outcome = apply_action(case, sent, scope, now, ruleset.version, ruleset.due_at)
        assert outcome.status == "applied", outcome.detail
        more, head = action_events(head, sent, outcome)
        events += more
        case = outcome.case
        if kind is ActionKind.claim:
            target.claimed = now
        else:
            target.ended, target.outcome = (
                now,
                {"accept": "accepted", "decline": "declined", "reassign": "reassigned", "close": "closed"}[kind.value],
            )
            target.code = None if kind is ActionKind.accept else (code or "not_given")
            target.to = to.value if to else None
        if outcome.follow_up is not None:
            decisions.append(outcome.follow_up)
            for item in outcome.follow_up_items:
                assert item.state is ItemState.new and item.created_at == now  # a fresh item, never a merge
                mine.append(
                    Expected(
                        referral.referral_id,
                        item.service.value,
                        target.priority,
                        now,
                        ruleset.due_at(Priority(target.priority), now),
                    )
                )
    return Simulated(referral, decisions, case, events, mine)


@pytest.fixture(scope="module")
def quarter(default_ruleset: Ruleset) -> list[Simulated]:
    rng = random.Random(2021)
    return [_simulate(rng, _referral(rng, n), default_ruleset) for n in range(720)]


@pytest.fixture(scope="module")
def report(quarter: list[Simulated]) -> KpiReport:
    inputs = [
        ReportInput.of(ReferralRecord(referral=s.referral, decisions=s.decisions), s.case, Trail(events=s.events))
        for s in quarter
    ]
    return compute_kpis(inputs, START, END, as_of=AS_OF)


def _in_quarter(quarter: list[Simulated]) -> list[Simulated]:
    return [s for s in quarter if START <= s.referral.accepted_at < END]


def _known(quarter: list[Simulated]) -> list[Expected]:
    """Items of the quarter's referrals as they stood at AS_OF."""
    out = []
    for s in _in_quarter(quarter):
        for e in s.items:
            if e.created > AS_OF:
                continue
            seen = Expected(e.referral_id, e.service, e.priority, e.created, e.due)
            if e.claimed is not None and e.claimed <= AS_OF:
                seen.claimed = e.claimed
            if e.ended is not None and e.ended <= AS_OF:
                seen.ended, seen.outcome, seen.code, seen.to = e.ended, e.outcome, e.code, e.to
            out.append(seen)
    return out


def _pick(values: list[float], percent: int) -> float | None:
    if not values:
        return None
    values = sorted(values)
    position = (percent * len(values) + 99) // 100
    return round(values[max(position, 1) - 1], 2)


def test_simulation_is_big_and_varied(quarter: list[Simulated]) -> None:
    """At least 500 referrals in the quarter, reaching every service with every kind of officer action."""
    items = _known(quarter)
    assert len(_in_quarter(quarter)) >= 500
    assert {e.service for e in items} == {s.value for s in Service}
    assert {e.outcome for e in items} == {None, "accepted", "declined", "reassigned", "closed"}


def test_referral_counts_by_source(quarter: list[Simulated], report: KpiReport) -> None:
    """Referrals accepted in the period, counted per source agency."""
    cohort = _in_quarter(quarter)
    expected = Counter(s.referral.submission.source.agency.value for s in cohort)
    assert report.referrals == len(cohort)
    assert {r.source_agency: r.referrals for r in report.by_source} == {a.value: expected[a.value] for a in Agency}


def test_items_and_outcomes_per_service(quarter: list[Simulated], report: KpiReport) -> None:
    """Items per service and how each ended, as known at the report's time."""
    items = _known(quarter)
    assert report.items == len(items)
    for row in report.by_service:
        mine = [e for e in items if e.service == row.service]
        assert row.items == len(mine)
        assert row.referrals == len({e.referral_id for e in mine})
        assert row.accepted == sum(e.outcome == "accepted" for e in mine)
        assert row.declined == sum(e.outcome == "declined" for e in mine)
        assert row.reassigned == sum(e.outcome == "reassigned" for e in mine)
        assert row.closed == sum(e.outcome == "closed" for e in mine)
        assert row.open == sum(e.outcome is None for e in mine)


def test_time_to_claim_and_accept_per_service(quarter: list[Simulated], report: KpiReport) -> None:
    """Median and 90th percentile hours from an item's creation to its first claim and to its acceptance."""
    items = _known(quarter)
    for row in report.by_service:
        mine = [e for e in items if e.service == row.service]
        claim = [(e.claimed - e.created).total_seconds() / 3600 for e in mine if e.claimed]
        accept = [(e.ended - e.created).total_seconds() / 3600 for e in mine if e.ended and e.outcome == "accepted"]
        assert row.time_to_claim.count == len(claim)
        assert (row.time_to_claim.median_hours, row.time_to_claim.p90_hours) == (_pick(claim, 50), _pick(claim, 90))
        assert row.time_to_accept.count == len(accept)
        assert (row.time_to_accept.median_hours, row.time_to_accept.p90_hours) == (_pick(accept, 50), _pick(accept, 90))


def _timed(items: list[Expected]) -> tuple[int, float | None, float | None, int, float | None, float | None]:
    claim = [(e.claimed - e.created).total_seconds() / 3600 for e in items if e.claimed]
    accept = [(e.ended - e.created).total_seconds() / 3600 for e in items if e.ended and e.outcome == "accepted"]
    return (len(claim), _pick(claim, 50), _pick(claim, 90), len(accept), _pick(accept, 50), _pick(accept, 90))


def _timing_of(row: SourceRow | PriorityRow | ObjectiveRow) -> tuple[object, ...]:
    claim, accept = row.time_to_claim, row.time_to_accept
    return (claim.count, claim.median_hours, claim.p90_hours, accept.count, accept.median_hours, accept.p90_hours)


def test_time_to_claim_and_accept_per_source_priority_and_objective(
    quarter: list[Simulated], report: KpiReport
) -> None:
    """The same timings per source agency (its referrals' items), item priority and objective (the items of
    the referrals counted under it)."""
    items = _known(quarter)
    cohort = _in_quarter(quarter)
    agency = {s.referral.referral_id: s.referral.submission.source.agency.value for s in cohort}
    for source in report.by_source:
        assert _timing_of(source) == _timed([e for e in items if agency[e.referral_id] == source.source_agency])
    for priority in report.by_priority:
        assert _timing_of(priority) == _timed([e for e in items if e.priority == priority.priority])
    for objective in report.by_objective:
        counted = set()
        for s in cohort:
            mine = [e for e in items if e.referral_id == s.referral.referral_id]
            concerns = set().union(*(OBJECTIVE_OF_CONCERN.get(c.value, set()) for c in s.referral.submission.concerns))
            services = set().union(
                *(OBJECTIVE_OF_SERVICE[e.service] for e in mine if e.outcome not in ("declined", "reassigned"))
            )
            if objective.objective in concerns | services:
                counted.add(s.referral.referral_id)
        assert _timing_of(objective) == _timed([e for e in items if e.referral_id in counted])
    assert all(row.time_to_accept.count > 0 for row in report.by_objective)
    assert sum(row.time_to_claim.count for row in report.by_source) == sum(e.claimed is not None for e in items)


def test_sla_compliance_per_service_and_priority(quarter: list[Simulated], report: KpiReport) -> None:
    """Met: accepted or closed by the deadline; breached: later, or still open past it at the report's time."""
    items = _known(quarter)
    expected = {}
    for key in {(e.service, e.priority) for e in items}:
        mine = [e for e in items if (e.service, e.priority) == key]
        settled = [e for e in mine if e.outcome in ("accepted", "closed")]
        met = sum(e.ended is not None and e.ended <= e.due for e in settled)
        open_late = sum(e.outcome is None and e.due < AS_OF for e in mine)
        breached = len(settled) - met + open_late
        expected[key] = (
            met,
            breached,
            open_late,
            sum(e.outcome is None and e.due >= AS_OF for e in mine),
            sum(e.outcome in ("declined", "reassigned") for e in mine),
            round(met / (met + breached), 4) if met + breached else None,
        )
    got = {
        (r.service, r.priority): (r.met, r.breached, r.open_past_due, r.pending, r.handed_on, r.compliance)
        for r in report.sla
    }
    assert got == expected
    assert sum(v[1] for v in expected.values()) > 0 and sum(v[0] for v in expected.values()) > 0


def test_declines_reassignments_and_closures_with_reason_codes(quarter: list[Simulated], report: KpiReport) -> None:
    """Each final non-acceptance is counted by service, reason code and (for reassignments) target."""
    expected = Counter(
        (e.outcome, e.service, e.code, e.to)
        for e in _known(quarter)
        if e.outcome in ("declined", "reassigned", "closed")
    )
    assert {(r.outcome, r.service, r.reason_code, r.to): r.count for r in report.outcomes} == dict(expected)
    assert any(r.reason_code == "other" for r in report.outcomes)
    assert any(r.reason_code == "not_given" for r in report.outcomes)


def test_referrals_by_priority_and_objective(quarter: list[Simulated], report: KpiReport) -> None:
    """Priority: the initial decision's most pressing; objectives: by concern, or by a service that took it on."""
    order = ["urgent", "high", "medium", "standard"]
    by_priority: Counter[str] = Counter()
    objectives: Counter[int] = Counter()
    concern_hits: Counter[int] = Counter()
    service_hits: Counter[int] = Counter()
    none = 0
    items = _known(quarter)
    for s in _in_quarter(quarter):
        by_priority[min((a.priority.value for a in s.decisions[0].assignments), key=order.index)] += 1
        concerns = set().union(*(OBJECTIVE_OF_CONCERN.get(c.value, set()) for c in s.referral.submission.concerns))
        services = set().union(
            *(
                OBJECTIVE_OF_SERVICE[e.service]
                for e in items
                if e.referral_id == s.referral.referral_id and e.outcome not in ("declined", "reassigned")
            )
        )
        objectives.update(concerns | services)
        concern_hits.update(concerns)
        service_hits.update(services)
        none += not (concerns | services)
    assert {p.priority: p.referrals for p in report.by_priority} == {p: by_priority[p] for p in order}
    assert {p.priority: p.items for p in report.by_priority} == {p: sum(e.priority == p for e in items) for p in order}
    assert {o.objective: (o.referrals, o.by_concern, o.by_service) for o in report.by_objective} == {
        n: (objectives[n], concern_hits[n], service_hits[n]) for n in range(1, 6)
    }
    assert report.supporting_no_objective == none


def test_report_serialises_to_json_and_back(report: KpiReport) -> None:
    """The report is a frozen model that round-trips through JSON unchanged."""
    assert KpiReport.model_validate_json(report.model_dump_json()) == report


# Edge cases


def _one(accepted_at: datetime, concerns: tuple[str, ...] = ("hate_crime",), age: int = 40) -> ReportInput:
    referral = build_referral(
        reference=f"EDGE-{accepted_at:%Y%m%d%H%M%S}",
        submitted_at=accepted_at,
        concerns=concerns,
        role="victim",
        age=age,
    )
    return ReportInput.of(ReferralRecord(referral=referral), None, None)


def test_empty_period_gives_zeroes_and_no_timings() -> None:
    """No referrals: zero counts everywhere, timings and compliance not measurable (None)."""
    report = compute_kpis([], START, END)
    assert report.referrals == report.items == report.supporting_no_objective == 0
    assert all(r.referrals == 0 for r in report.by_source)
    assert all(r.time_to_claim.median_hours is None and r.sla_compliance is None for r in report.by_service)
    assert [o.referrals for o in report.by_objective] == [0, 0, 0, 0, 0]
    assert report.sla == [] and report.outcomes == []
    assert report.as_of == END


def test_period_includes_from_and_excludes_to() -> None:
    """A referral accepted exactly at `from` counts; one accepted exactly at `to` does not."""
    report = compute_kpis([_one(START), _one(END), _one(END - timedelta(microseconds=1))], START, END)
    assert report.referrals == 2
    assert [p.referrals for p in report.by_priority if p.priority == "untriaged"] == [2]


def test_period_must_end_after_it_starts() -> None:
    """An empty or backwards period is refused."""
    with pytest.raises(ValueError):
        compute_kpis([], END, START)
    with pytest.raises(ValueError):
        compute_kpis([], START, START)


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([], None, None),
        ([7.0], 7.0, 7.0),
        ([2.0, 1.0], 1.0, 2.0),
        ([3.0, 1.0, 2.0], 2.0, 3.0),
        ([float(n) for n in range(1, 11)], 5.0, 9.0),
        ([float(n) for n in range(1, 12)], 6.0, 10.0),
    ],
)
def test_percentiles_use_nearest_rank_on_small_samples(
    values: list[float], median: float | None, p90: float | None
) -> None:
    """Nearest rank: an observed value, the smallest with at least p% of values at or below it."""
    assert (nearest_rank(values, 50), nearest_rank(values, 90)) == (median, p90)
    assert timing(values).count == len(values)


def test_parse_bound_reads_dates_as_utc_midnight_and_naive_times_as_utc() -> None:
    """Dates mean midnight UTC; date-times keep their offset, or are UTC without one; nonsense is refused."""
    assert parse_bound("2026-04-01") == START
    assert parse_bound("2026-04-01T09:30") == START.replace(hour=9, minute=30)
    assert parse_bound("2026-04-01T10:30:00+01:00") == START.replace(hour=9, minute=30)
    for bad in ("", "2026-13-01", "yesterday"):
        with pytest.raises(ValueError):
            parse_bound(bad)


def _input(case: Case, events: list[AuditEvent], *decisions: TriageDecision) -> ReportInput:
    referral = build_referral(reference="EDGE-CASE", submitted_at=T0)
    record = ReferralRecord(
        referral=referral.model_copy(update={"referral_id": REFERRAL_ID}), decisions=list(decisions)
    )
    return ReportInput.of(record, case, Trail(events=events))


def test_reassignment_into_an_open_item_is_one_item_with_the_raised_priority() -> None:
    """A follow-up decision merged into an open item does not count a second item."""
    first = decision(assignment(Service.sada, Priority.standard), assignment(Service.no_more, Priority.high))
    case, created = apply_decision(None, first, T0)
    events, head = decision_events(None, first, created)
    later = T0 + timedelta(hours=2)
    sent = action(ActionKind.reassign, Service.no_more, "officer-nm", reason="wrong_service", to=Service.sada, at=later)
    outcome = apply_action(
        case,
        sent,
        OfficerScope(officer_id="officer-nm", services=frozenset({Service.no_more})),
        later,
        RULESET,
        due_at,
    )
    more, head = action_events(head, sent, outcome)
    assert outcome.follow_up is not None
    report = compute_kpis(
        [_input(outcome.case, events + more, first, outcome.follow_up)], T0 - timedelta(days=1), T0 + timedelta(days=1)
    )
    sada = next(r for r in report.by_service if r.service == "sada")
    assert sada.items == 1
    assert [(s.service, s.priority) for s in report.sla if s.service == "sada"] == [("sada", "high")]
    assert [(o.outcome, o.service, o.reason_code, o.to) for o in report.outcomes] == [
        ("reassigned", "no_more", "wrong_service", "sada")
    ]


def test_case_items_fill_in_when_the_trail_lags() -> None:
    """An item the trail does not show yet still counts, with its state from the case."""
    first = decision(assignment(Service.hate_crime, Priority.medium))
    case, _ = apply_decision(None, first, T0)
    closed = apply_action(
        case,
        action(ActionKind.close, Service.hate_crime, "o-hc", reason="duplicate", at=T0 + timedelta(hours=1)),
        OfficerScope(officer_id="o-hc", services=frozenset({Service.hate_crime})),
        T0 + timedelta(hours=1),
        RULESET,
        due_at,
    ).case
    report = compute_kpis([_input(closed, [], first)], T0 - timedelta(days=1), T0 + timedelta(days=1))
    row = next(r for r in report.by_service if r.service == "hate_crime")
    assert (row.items, row.closed, row.sla_met, row.sla_compliance) == (1, 1, 1, 1.0)
    assert [(o.outcome, o.reason_code) for o in report.outcomes] == [("closed", "duplicate")]


def test_open_items_breach_only_once_their_deadline_has_passed() -> None:
    """An untouched item is pending before its deadline and a breach after it."""
    first = decision(assignment(Service.sos, Priority.urgent))
    case, created = apply_decision(None, first, T0)
    events, _ = decision_events(None, first, created)
    inputs = [_input(case, events, first)]
    start, end = T0 - timedelta(days=1), T0 + timedelta(days=1)
    before = compute_kpis(inputs, start, end, as_of=T0 + timedelta(hours=3)).sla[0]
    after = compute_kpis(inputs, start, end, as_of=T0 + timedelta(hours=5)).sla[0]
    assert (before.pending, before.breached, before.compliance) == (1, 0, None)
    assert (after.pending, after.breached, after.open_past_due, after.compliance) == (0, 1, 1, 0.0)


def test_no_more_referral_counts_once_under_objectives_one_and_four() -> None:
    """The strategy lists No More under objectives one and four: the referral counts under both, once each."""
    first = decision(assignment(Service.no_more, Priority.standard))
    case, created = apply_decision(None, first, T0)
    events, _ = decision_events(None, first, created)
    report = compute_kpis([_input(case, events, first)], T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert [o.referrals for o in report.by_objective] == [1, 1, 0, 1, 0]
    counted = {o.objective: (o.by_concern, o.by_service) for o in report.by_objective}
    assert counted[1] == (0, 1) and counted[4] == (0, 1) and counted[2] == (1, 0)
