"""The decision contract: `replaces_all` added beside `replaces` without breaking either kind of reader."""

from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from schemas.codec import decode, encode
from schemas.decision import Assignment, TriageDecision
from schemas.vocabulary import Service
from services.triage.cases.case import QueueItem
from tests.triage.decision_factory import T0, assignment, decision


def test_an_assignment_written_with_only_replaces_reads_as_a_list_of_one() -> None:
    """A message from a producer that knows only `replaces` still names its one replaced service."""
    written = orjson.loads(encode(assignment(Service.manual_review, replaces=Service.sada)))
    del written["replaces_all"]
    read = decode(orjson.dumps(written), Assignment)
    assert (read.replaces, read.replaces_all) == (Service.sada, [Service.sada])


def test_an_assignment_with_several_replaced_services_keeps_the_first_in_replaces() -> None:
    """Readers of `replaces` see the most pressing replaced service; the list carries every one."""
    made = assignment(Service.manual_review, replaces_all=[Service.sos, Service.sada, Service.no_more])
    read = decode(encode(decision(made)), TriageDecision).assignments[0]
    assert read.replaces == Service.sos
    assert read.replaces_all == [Service.sos, Service.sada, Service.no_more]


@pytest.mark.parametrize(
    ("replaces", "replaces_all"),
    [
        (Service.sada, [Service.sos, Service.sada]),
        (None, [Service.sos, Service.sos]),
    ],
    ids=["disagreeing", "repeated"],
)
def test_replaced_services_that_disagree_or_repeat_are_refused(
    replaces: Service | None, replaces_all: list[Service]
) -> None:
    """`replaces` must be the first of `replaces_all`, and no service is replaced twice."""
    with pytest.raises(ValidationError):
        assignment(Service.manual_review, replaces=replaces, replaces_all=replaces_all)


def test_a_queue_item_stored_before_replaces_all_existed_reads_as_a_list_of_one() -> None:
    """Triage's stored items that hold only `replaces` still load, with the list filled."""
    stored = {
        "referral_id": "r-1",
        "service": "manual_review",
        "priority": "high",
        "due_at": T0.isoformat(),
        "flags": [],
        "rule_ids": ["out-of-area"],
        "reasons": ["Out of area"],
        "ruleset_version": "1",
        "decision_id": "d-1",
        "created_at": T0.isoformat(),
        "updated_at": T0.isoformat(),
        "replaces": "sada",
    }
    item = decode(orjson.dumps(stored), QueueItem)
    assert item.replaces_all == [Service.sada]
