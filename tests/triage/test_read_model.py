"""The SQL read model: what `project` stores from the changelog and `audit.events`, and what the views read.

Each test runs on SQLite, and on PostgreSQL where one answers on 127.0.0.1:5432 (skipped, saying why, if not).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import orjson
import pytest
from structlog.testing import capture_logs

from schemas.codec import encode
from schemas.escalation import Escalation
from schemas.vocabulary import Priority, Service
from services.common.topics import AUDIT
from services.triage.cases.case import ItemState
from services.triage.cases.referral_state import ReferralState
from services.triage.cases.trail import escalation_event
from services.triage.read.database import open_engine
from services.triage.read.projection import CASES, project, stored_offsets
from services.triage.read.queries import ReadModel
from tests.support.read_database import Consumed
from tests.support.read_records import audit_records, case_records, queued, referral_id_of, with_item
from tests.triage.decision_factory import T0, assignment


@pytest.fixture
async def view(read_url: str) -> AsyncIterator[ReadModel]:
    model = ReadModel(open_engine(read_url, writer=True))
    yield model
    await model.engine.dispose()


async def store(view: ReadModel, records: list[Consumed]) -> int:
    async with view.engine.begin() as connection:
        return await project(connection, records)


async def test_events_in_any_order_and_repeated_give_one_trail_in_time_order(view: ReadModel) -> None:
    """Redelivered and out-of-order audit events make one trail, each event once, in the order they happened."""
    state, events = queued("RM-TRAIL", assignment(Service.sada, Priority.high), Service.no_more)
    item = state.case.items[Service.sada]  # type: ignore[union-attr]
    escalated, _ = escalation_event(
        state.head,
        Escalation(
            escalation_id="esc-1",
            referral_id=item.referral_id,
            service=item.service,
            priority=item.priority,
            due_at=item.due_at,
            state=item.state,
            detected_at=T0 + timedelta(days=2),
        ),
    )
    events = [*events, escalated]
    delivered = [events[3], events[1], events[0], events[1], events[2], events[3]]
    await store(view, audit_records(delivered[:3]))
    await store(view, audit_records(delivered[3:], first_offset=3))
    trail = await view.trail(referral_id_of(state))
    assert [e.hash for e in trail.events] == [e.hash for e in events]
    assert [e.action.value for e in trail.events] == ["triaged", "queued", "queued", "escalated"]


async def test_unreadable_and_referral_less_events_are_logged_left_out_and_passed(view: ReadModel) -> None:
    """Bad events are logged (position only) and stored nowhere; the offsets still move past them."""
    state, events = queued("RM-BAD", Service.sada)
    rejected = events[0].model_copy(update={"referral_id": None, "chain": "intake:sub-1"})
    records = [
        Consumed(AUDIT, 0, 0, b"x", b"{not json"),
        Consumed(
            AUDIT,
            0,
            1,
            b"x",
            orjson.dumps({"referral_id": referral_id_of(state), "chain": "triage:x", "seq": 7, "action": "nonsense"}),
        ),
        *audit_records([rejected, events[0]], first_offset=2),
    ]
    with capture_logs() as logs:
        assert await store(view, records) == 4
    unreadable = [entry for entry in logs if entry["event"] == "audit_event_unreadable_in_read_model"]
    assert [entry["offset"] for entry in unreadable] == [0, 1]
    assert [e.hash for e in (await view.trail(referral_id_of(state))).events] == [events[0].hash]
    assert (await view.trail("no-such-referral")).events == []
    async with view.engine.connect() as connection:
        assert await stored_offsets(connection) == {(AUDIT, 0): 4}


async def test_queues_are_filtered_by_service_and_state_in_priority_then_due_order(view: ReadModel) -> None:
    """A service's open queue holds its open items, most pressing first; `all` adds the final ones."""
    standard, _ = queued("RM-Q1", assignment(Service.sada, Priority.standard))
    urgent, _ = queued("RM-Q2", assignment(Service.sada, Priority.urgent), Service.sos)
    high, _ = queued("RM-Q3", assignment(Service.sada, Priority.high))
    settled = with_item(high, Service.sada, ItemState.accepted)
    await store(view, case_records([standard, urgent, high, settled]))
    open_ids = [item.referral_id for item in await view.queue(Service.sada)]
    assert open_ids == [referral_id_of(urgent), referral_id_of(standard)]
    all_ids = [item.referral_id for item in await view.queue(Service.sada, "all")]
    assert all_ids == [referral_id_of(urgent), referral_id_of(high), referral_id_of(standard)]
    assert [item.referral_id for item in await view.queue(Service.sos)] == [referral_id_of(urgent)]
    counts = await view.open_and_overdue([Service.sada, Service.sos, Service.no_more], T0 + timedelta(hours=5))
    assert counts == {Service.sada: (2, 1), Service.sos: (1, 0), Service.no_more: (0, 0)}


async def test_a_referral_reads_back_with_its_case_record_and_the_recorded_state(view: ReadModel) -> None:
    """The latest state of a referral wins; an unknown referral has neither case nor record."""
    state, _ = queued("RM-ONE", Service.sada)
    claimed = with_item(state, Service.sada, ItemState.claimed)
    await store(view, case_records([state]))
    await store(view, case_records([claimed], first_offset=1))
    case, record = await view.referral(referral_id_of(state))
    assert case is not None and case.items[Service.sada].state == ItemState.claimed
    assert record is not None and record.referral == state.referral
    assert await view.case(referral_id_of(state)) == case
    assert await view.referral("no-such-referral") == (None, None)


async def test_the_kpi_inputs_are_the_referrals_accepted_in_the_period_with_their_trails(view: ReadModel) -> None:
    """[from, to): a referral accepted at `to` is out; each input carries its own audit events only."""
    early, early_events = queued("RM-K1", Service.sada, accepted_at=T0)
    late, late_events = queued("RM-K2", Service.sos, accepted_at=T0 + timedelta(days=1))
    await store(view, [*case_records([early, late]), *audit_records([*early_events, *late_events])])
    inputs = await view.report_inputs(T0, T0 + timedelta(days=1))
    assert [i.referral_id for i in inputs] == [referral_id_of(early)]
    assert [e.hash for e in inputs[0].events] == [e.hash for e in early_events]
    assert [i.service for i in inputs[0].items] == [Service.sada]
    both = await view.report_inputs(T0, T0 + timedelta(days=2))
    assert sorted(i.referral_id for i in both) == sorted([referral_id_of(early), referral_id_of(late)])


async def test_records_below_the_stored_offsets_are_skipped_so_a_second_projector_adds_nothing(
    view: ReadModel,
) -> None:
    """What another projector on the same database stored is not applied again, nor are the offsets moved back."""
    first, _ = queued("RM-S1", Service.sada)
    claimed = with_item(first, Service.sada, ItemState.claimed)
    records = case_records([first, claimed], partition=1)
    assert await store(view, records) == 2
    assert await store(view, records[:1]) == 0
    case = await view.case(referral_id_of(first))
    assert case is not None and case.items[Service.sada].state == ItemState.claimed
    async with view.engine.connect() as connection:
        assert await stored_offsets(connection) == {(CASES, 1): 2}


async def test_a_partner_reads_its_own_referral_and_its_outcomes_numbered_per_partner(view: ReadModel) -> None:
    """Outcomes are stored once each (redelivered ones too), numbered 1, 2, ... per partner in the order
    projected; a partner reads only its own referrals."""
    from schemas.outcome import ReferralOutcome
    from services.common.topics import OUTCOMES
    from services.triage.cases.outcomes import outcomes_for

    mine, _ = queued("RM-MINE", Service.sada, Service.no_more)
    theirs, _ = queued("RM-THEIRS", Service.sada)
    theirs = theirs.model_copy(
        update={"referral": theirs.referral.model_copy(update={"partner_id": "other-partner"})}  # type: ignore[union-attr]
    )

    def told(state: ReferralState) -> list[ReferralOutcome]:
        assert state.case is not None and state.partner_id is not None
        return outcomes_for(None, state.case, partner_id=state.partner_id, step="s", occurred_at=T0, first_seq=1)

    mine_told, theirs_told = told(mine), told(theirs)
    records = [
        Consumed(OUTCOMES, 0, n, o.referral_id.encode(), encode(o))
        for n, o in enumerate([mine_told[0], theirs_told[0], mine_told[0], mine_told[1]])
    ]
    await store(view, case_records([mine, theirs]))
    await store(view, records)
    partner = mine.partner_id
    assert partner is not None and partner != "other-partner"
    found = await view.partner_referral(partner, referral_id_of(mine))
    assert found is not None and found[1] == mine_told
    assert await view.partner_referral(partner, referral_id_of(theirs)) is None
    assert await view.partner_referral(partner, "no-such-referral") is None
    changes = await view.partner_changes(partner, 0, 10)
    assert [(n, o.outcome_id) for n, o in changes] == [(1, mine_told[0].outcome_id), (2, mine_told[1].outcome_id)]
    assert await view.partner_changes(partner, 1, 10) == changes[1:]
    assert [n for n, _ in await view.partner_changes("other-partner", 0, 10)] == [1]
