"""The per-partition delivery order the consumer enforces (pure; the crash test covers it end to end)."""

from services.common.offset_sequence import OffsetSequencer, Verdict


def test_delivers_in_order_from_the_sought_offset_and_drops_what_was_delivered() -> None:
    seq: OffsetSequencer[str] = OffsetSequencer()
    seq.sought("p0", 10)
    assert [seq.check("p0", offset) for offset in (10, 11, 11, 9, 12)] == [
        Verdict.DELIVER,
        Verdict.DELIVER,
        Verdict.DUPLICATE,
        Verdict.DUPLICATE,
        Verdict.DELIVER,
    ]
    assert seq.expected("p0") == 13


def test_a_seek_back_makes_the_range_deliverable_again() -> None:
    seq: OffsetSequencer[str] = OffsetSequencer()
    seq.sought("p0", 10)
    for offset in range(10, 20):
        seq.check("p0", offset)
    seq.sought("p0", 12)
    assert seq.check("p0", 12) is Verdict.DELIVER


def test_a_jump_past_the_expected_offset_is_reread_not_delivered() -> None:
    """The stale batch after a rebalance: 150.. arrives when 90 was committed."""
    seq: OffsetSequencer[str] = OffsetSequencer()
    seq.sought("p0", 90)
    assert seq.check("p0", 150) is Verdict.RESEEK
    assert seq.expected("p0") == 90, "a jump does not move the expected offset"
    assert seq.check("p0", 90) is Verdict.DELIVER, "the re-read starts where the commit left off"
    assert seq.check("p0", 91) is Verdict.DELIVER


def test_a_jump_is_believed_only_after_repeated_fresh_rereads() -> None:
    """A log truncated past the committed offset must not stall the partition for ever."""
    seq: OffsetSequencer[str] = OffsetSequencer(max_reseeks=2)
    seq.sought("p0", 5)
    assert seq.check("p0", 40) is Verdict.RESEEK
    assert seq.check("p0", 40) is Verdict.RESEEK
    assert seq.check("p0", 40) is Verdict.SKIP_GAP
    assert seq.expected("p0") == 41
    assert seq.check("p0", 41) is Verdict.DELIVER


def test_an_unknown_position_takes_what_comes_and_partitions_are_independent() -> None:
    seq: OffsetSequencer[str] = OffsetSequencer()
    seq.sought("p1", None)
    assert seq.check("p1", 7) is Verdict.DELIVER
    assert seq.check("p2", 3) is Verdict.DELIVER, "never sought: nothing to hold it to"
    seq.sought("p0", 1)
    assert seq.check("p0", 4) is Verdict.RESEEK
    assert seq.check("p1", 8) is Verdict.DELIVER


def test_a_revoked_partition_is_forgotten() -> None:
    seq: OffsetSequencer[str] = OffsetSequencer()
    seq.sought("p0", 3)
    seq.check("p0", 9)
    seq.forget("p0")
    assert seq.expected("p0") is None
    assert seq.check("p0", 9) is Verdict.DELIVER
