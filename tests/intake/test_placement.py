"""Which submissions intake may admit where it reads them, without the re-keying hop."""

from __future__ import annotations

from services.intake.placement import admissible_in_place, partition_for

REFERRAL = "ref-0001"
KEY = REFERRAL.encode()


def test_partition_for_matches_the_default_partitioner_of_aiokafka() -> None:
    """The same key lands on the same partition as aiokafka's own default partitioner puts it."""
    from aiokafka.partitioner import DefaultPartitioner

    for n in (1, 2, 4, 12):
        for key in (KEY, b"x", b"another-referral"):
            assert partition_for(key, n) == DefaultPartitioner()(key, list(range(n)), list(range(n)))


def test_a_submission_keyed_by_its_referral_on_its_partition_is_admitted_in_place() -> None:
    """Keyed by the referral id, on that key's partition, topic and table alike: no hop needed."""
    assert admissible_in_place(KEY, REFERRAL, partition_for(KEY, 4), 4, 4)


def test_an_unkeyed_or_otherwise_keyed_submission_takes_the_hop() -> None:
    """A partner producer may send no key or its own: the referral's record may live elsewhere."""
    assert not admissible_in_place(None, REFERRAL, partition_for(KEY, 4), 4, 4)
    assert not admissible_in_place(b"partner-key", REFERRAL, partition_for(KEY, 4), 4, 4)


def test_a_submission_on_another_partition_or_a_differently_partitioned_topic_takes_the_hop() -> None:
    """The right key on the wrong partition (another partitioner), or a topic unlike the table, is re-keyed."""
    right = partition_for(KEY, 4)
    assert not admissible_in_place(KEY, REFERRAL, (right + 1) % 4, 4, 4)
    assert not admissible_in_place(KEY, REFERRAL, right, 8, 4)
    assert not admissible_in_place(KEY, REFERRAL, right, None, 4)
