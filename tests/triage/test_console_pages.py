"""What the console shows of a queue item, in the partnership's words."""

from __future__ import annotations

import pytest

from schemas.vocabulary import Priority, Service
from services.triage.cases.case import apply_decision
from services.triage.console.pages import item_view
from tests.triage.decision_factory import T0, assignment, decision


@pytest.mark.parametrize(
    ("replaced", "words"),
    [
        ([], None),
        ([Service.sada], "the SADA item"),
        (
            [Service.sada, Service.sos, Service.no_more],
            "the SADA, SOS youth violence project and No More Service items",
        ),
    ],
    ids=["none", "one", "three"],
)
def test_item_page_names_every_service_the_item_replaces(replaced: list[Service], words: str | None) -> None:
    """A manual review standing in for several services names each of them, not only the first."""
    made = decision(assignment(Service.manual_review, Priority.high, replaces_all=replaced))
    _, [item] = apply_decision(None, made, T0)
    assert item_view(item, T0)["replaces"] == words
