"""A worker keeps its local tables only after a clean stop; otherwise it rebuilds them from the changelogs."""

from __future__ import annotations

from services.common.local_state import claim, mark_stopped_cleanly


def test_tables_left_by_a_clean_stop_are_kept(tmp_path) -> None:
    """The clean-stop mark keeps the tables, and is used up by the start that finds it."""
    state = tmp_path / "sosafe-triage"
    state.mkdir()
    (state / "cases-0.db").write_bytes(b"table")
    mark_stopped_cleanly(state)
    assert claim(state)
    assert (state / "cases-0.db").read_bytes() == b"table"
    assert not claim(state), "a crash after this start must not find the mark"


def test_tables_left_by_a_crash_are_deleted(tmp_path) -> None:
    """Without the mark the tables may be ahead of their changelogs: they go, the directory stays."""
    state = tmp_path / "sosafe-triage"
    state.mkdir()
    (state / "cases-0.db").write_bytes(b"table")
    assert not claim(state)
    assert state.is_dir() and list(state.iterdir()) == []


def test_a_first_start_creates_the_directory(tmp_path) -> None:
    state = tmp_path / "state" / "sosafe-intake"
    assert not claim(state)
    assert state.is_dir()
