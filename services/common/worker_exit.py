"""Ending a worker process at once, before it can acknowledge a message whose step did not complete.

Faust answers a crashed agent by restarting it in the same process, and the message it was working on is
acknowledged on the way out; a stopping worker commits what was acknowledged. Either would mark a message
done whose outputs never reached the broker. So a step that cannot complete ends the process with
`os._exit`, which runs no clean-up and commits nothing: the message's offset stays uncommitted, and after
the restart (by `sosafe dev`, the container runtime or systemd) the message is delivered again. Every step
is written to be replayed (docs/architecture.md, "Delivery guarantee").
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, NoReturn

from services.common.logs import get_logger

log = get_logger("sosafe.worker")

EXIT_STEP_UNCONFIRMED = 75
"""EX_TEMPFAIL: a temporary failure; restarting the worker is the remedy."""


def end_worker(event: str, **fields: Any) -> NoReturn:
    """Log `event` (no personal data: topics, offsets, error types only), flush the streams and exit."""
    log.critical(event, exit_code=EXIT_STEP_UNCONFIRMED, **fields)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe must not keep the process alive
            stream.flush()
    os._exit(EXIT_STEP_UNCONFIRMED)
