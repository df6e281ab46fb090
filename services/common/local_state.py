"""Each worker's tables on local disk: where they live, how they are built, and when they are rebuilt.

Faust keeps each table partition in its own RocksDB database under `<tables_dir>/<app id>`, together with
the offset of the last changelog record it holds; after a restart Faust reads each changelog only from
that offset. The changelogs stay the source of truth: the directory can always be deleted, and the worker
rebuilds it from them.

A worker that crashed may have written a value to disk whose changelog record never reached the broker,
and a redelivered message finds its step already done and writes nothing again, so that value would never
reach the changelog. Only a worker that stopped cleanly therefore leaves a mark that its tables may be
kept; any other start wipes them and recovers everything from the changelogs.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import faust
from faust.types import EventT, TableT
from prometheus_client import CollectorRegistry, Counter

from services.common.logs import get_logger

log = get_logger("sosafe.local_state")

STOPPED_CLEANLY = "stopped-cleanly"

# Faust's RocksDB defaults are sized for a dedicated host: a 2 GiB block cache and 3 x 64 MiB write buffers
# for every table partition. Ours are small records and a few tables per worker, so memory stays bounded by
# the number of partitions, not by how much history the tables hold.
ROCKSDB_OPTIONS: dict[str, Any] = {
    "write_buffer_size": 4 * 1024 * 1024,
    "max_write_buffer_number": 2,
    "target_file_size_base": 16 * 1024 * 1024,
    "block_cache_size": 8 * 1024 * 1024,
    "max_open_files": 256,
}


def app_state_dir(tables_dir: Path, app_id: str) -> Path:
    return tables_dir / app_id


def claim(state_dir: Path) -> bool:
    """At start-up: keep the tables if the last worker using them stopped cleanly, else delete them.

    Returns whether they were kept. The mark is removed, so a crash from now on leaves none.
    """
    mark = state_dir / STOPPED_CLEANLY
    kept = mark.exists()
    if kept:
        mark.unlink()
    elif state_dir.exists():
        shutil.rmtree(state_dir)
        log.warning("local_state_discarded", reason="previous_worker_did_not_stop_cleanly")
    state_dir.mkdir(parents=True, exist_ok=True)
    return kept


def mark_stopped_cleanly(state_dir: Path) -> None:
    if state_dir.is_dir():
        (state_dir / STOPPED_CLEANLY).touch()


def recovered_records_counter(registry: CollectorRegistry) -> Counter:
    return Counter(
        "sosafe_table_records_recovered_total",
        "Changelog records applied to this worker's local tables while recovering (after a start or rebalance)",
        ["service", "table"],
        registry=registry,
    )


def bytes_table(app: faust.App, name: str, partitions: int, recovered: Counter, service: str) -> TableT[bytes, bytes]:
    """A table of raw keys and values in the app's store, counting the changelog records it recovers."""
    counted = recovered.labels(service, name)

    async def on_changelog_event(event: EventT[Any]) -> None:
        counted.inc()

    return app.Table(
        name,
        default=None,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        options=dict(ROCKSDB_OPTIONS) if app.conf.store.scheme == "rocksdb" else None,  # the store pops from it
        on_changelog_event=on_changelog_event,
    )
