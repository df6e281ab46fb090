"""A partner's view of its referral: the cursor is opaque and round-trips; the status is built from outcomes."""

from __future__ import annotations

from services.triage.api.partners import decode_cursor, encode_cursor


def test_a_cursor_round_trips_and_anything_else_is_refused() -> None:
    assert decode_cursor(encode_cursor(42)) == 42
    assert decode_cursor(None) == 0 and decode_cursor("") == 0
    for bad in ("42", "not a cursor!", encode_cursor(1)[:-1] + "*", "x" * 65, "djE6LTE"):  # djE6LTE is "v1:-1"
        assert decode_cursor(bad) is None, bad
