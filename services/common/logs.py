"""structlog set-up: JSON lines on stdout, personal data redacted, stdlib loggers (Faust, aiokafka) too.

Only our own loggers (named `sosafe.*`) follow the configured level. Every other logger (Faust, mode,
aiokafka, aiohttp, asyncio...) is held at WARNING or above whatever the level says: at DEBUG Faust logs
whole message values, which carry referrals, and the redaction processor cannot recognise a name inside
a repr.
"""

from __future__ import annotations

import logging
import sys

import structlog

from services.common.redaction import redact_personal_data

SHARED_PROCESSORS: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.format_exc_info,
    redact_personal_data,
]


OUR_LOGGERS = "sosafe"
THIRD_PARTY_FLOOR = logging.WARNING
QUIETENED = ("faust", "mode", "aiokafka", "kafka", "aiohttp", "asyncio", "aiosmtplib", "yarl", "venusian")
"""Third-party loggers set to the floor by name, so their DEBUG records are not even built."""


class OnlyOursBelowWarning(logging.Filter):
    """Passes a record below WARNING only when it comes from one of our loggers, whatever a library set."""

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name == OUR_LOGGERS or record.name.startswith(OUR_LOGGERS + ".")
        return ours or record.levelno >= THIRD_PARTY_FLOOR


def configure_logging(level: str = "INFO", service: str | None = None) -> None:
    """Route structlog and stdlib logging through one redacting JSON renderer."""
    structlog.configure(
        processors=[*SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=SHARED_PROCESSORS,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.JSONRenderer()],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(OnlyOursBelowWarning())
    ours = logging.getLevelNamesMapping()[level.upper()]
    floor = max(ours, THIRD_PARTY_FLOOR)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(floor)
    logging.getLogger(OUR_LOGGERS).setLevel(ours)
    for library in QUIETENED:
        logging.getLogger(library).setLevel(floor)
    if service:
        structlog.contextvars.bind_contextvars(service=service)
    get_logger("sosafe.logs").debug("logging_configured", level=level.upper(), libraries_at_least="WARNING")


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
