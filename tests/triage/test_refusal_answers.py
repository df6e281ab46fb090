"""The queue core's refusals as officers meet them over HTTP: one mapping in the API layer."""

from __future__ import annotations

import pytest

from services.triage.api.actions import REFUSAL_STATUS, Rejection
from services.triage.cases.case import ActionRecord, Refusal


@pytest.mark.parametrize(
    ("refusal", "status"),
    [
        (Refusal.officer_mismatch, 403),
        (Refusal.out_of_scope, 403),
        (Refusal.item_not_found, 404),
        (Refusal.reason_required, 422),
        (Refusal.target_required, 422),
        (Refusal.target_same_service, 422),
        (Refusal.item_final, 409),
        (Refusal.claimed_by_another, 409),
    ],
)
def test_each_refusal_is_answered_with_its_status_and_its_name_as_the_error_code(refusal: Refusal, status: int) -> None:
    """The codes the API documents: forbidden, not found, unprocessable, conflict."""
    assert Rejection.of(refusal, "the item is already accepted") == Rejection(
        status, refusal.value, "the item is already accepted"
    )


def test_every_refusal_has_a_status() -> None:
    """A new refusal cannot reach an officer without a status code."""
    assert set(REFUSAL_STATUS) == set(Refusal)


def test_a_refusal_without_detail_still_says_something() -> None:
    assert Rejection.of(Refusal.item_final, None).detail == "The action was refused."


def test_an_action_record_stored_before_refusals_had_names_reads_back() -> None:
    """Records kept in the cases table before `refusal` carry `http_status` and `error`."""
    stored = {"status": "refused", "http_status": 409, "error": "claimed_by_another", "detail": "held"}
    assert ActionRecord.model_validate(stored) == ActionRecord(
        status="refused", refusal=Refusal.claimed_by_another, detail="held"
    )
    applied = {"status": "applied", "http_status": 200, "error": None, "detail": None, "follow_up": None}
    assert ActionRecord.model_validate(applied) == ActionRecord(status="applied")
