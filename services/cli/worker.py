"""`sosafe worker intake|triage|notify`: run one service's Faust worker in this process."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

SERVICES = ("intake", "triage", "notify")


def service_settings(service: str) -> Any:
    """The service's own `Settings`, read from the environment (`SOSAFE_*`)."""
    settings_module = importlib.import_module(f"services.{service}.settings")
    return getattr(settings_module, f"{service.capitalize()}Settings")()


def run_worker(service: str) -> None:
    from faust import Worker

    from services.common.consumer_group import wait_for_departed_members
    from services.common.kafka_security import security_options
    from services.common.local_state import app_state_dir, claim, mark_stopped_cleanly
    from services.common.logs import configure_logging, get_logger
    from services.common.settings import DevelopmentDefaultInUse

    settings = service_settings(service)
    try:
        settings.refuse_development_defaults()
    except DevelopmentDefaultInUse as exc:
        raise SystemExit(f"sosafe worker {service}: {exc}") from None
    configure_logging(settings.log_level, service)
    get_logger("sosafe.worker").info("worker_starting", embedded_broker=settings.embedded_broker)
    if not settings.embedded_broker:  # Tansu lists a dead member until the next join: waiting would not help
        security = security_options(settings)
        group = f"sosafe-{service}"
        asyncio.run(wait_for_departed_members(settings.bootstrap_servers, group, settings.session_timeout_s, security))
    state_dir = app_state_dir(settings.tables_dir, f"sosafe-{service}")
    claim(state_dir)
    built = importlib.import_module(f"services.{service}.app").build(settings)
    worker = Worker(built.app, loglevel=settings.log_level, override_logging=False, quiet=True)
    try:
        worker.execute_from_commandline()
    except SystemExit as exit_:
        if exit_.code in (0, None):  # a crash exits otherwise, or through os._exit (worker_exit)
            mark_stopped_cleanly(state_dir)
        raise
