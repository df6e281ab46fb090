"""Where a referral's seen record lives, and whether a submission already sits there (pure).

The seen table is partitioned like the topic its writer consumes: a referral's record is written from, and
kept on, the partition its referral id hashes to (Kafka's default partitioner, murmur2, which Faust's and
the HTTP path's producers use). A submission produced with its referral id as key onto that partition of a
topic with as many partitions as the table (every HTTP submission is) can be admitted where it is read;
any other needs the re-keying hop through the validated topic first.
"""

from __future__ import annotations

from aiokafka.partitioner import murmur2


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives `key` among `partitions`."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


def admissible_in_place(
    key: bytes | None, referral_id: str, partition: int, topic_partitions: int | None, table_partitions: int
) -> bool:
    """True when the message is keyed by `referral_id` and sits on the partition that holds its seen record."""
    return (
        key == referral_id.encode()
        and topic_partitions == table_partitions
        and partition == partition_for(key, table_partitions)
    )
