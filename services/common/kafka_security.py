"""How every Kafka client of a service authenticates: the one place the settings become client options.

The Faust app (`broker_credentials`) and every raw aiokafka producer, consumer and admin client a service
or a CLI tool builds take their options from here, so no client connects other than the service's own
principal does (docs/architecture.md#trust-boundaries)."""

from __future__ import annotations

import ssl
from typing import Any

import faust

from services.common.settings import CommonSettings


def ssl_context(settings: CommonSettings) -> ssl.SSLContext:
    """TLS that verifies the broker's certificate and host name: against `kafka_ca_file`, or the system's
    CAs when unset; with the client certificate when one is set (mutual TLS)."""
    cafile = str(settings.kafka_ca_file) if settings.kafka_ca_file is not None else None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.kafka_cert_file is not None and settings.kafka_key_file is not None:
        context.load_cert_chain(str(settings.kafka_cert_file), str(settings.kafka_key_file))
    return context


def security_options(settings: CommonSettings) -> dict[str, Any]:
    """aiokafka's security keyword arguments (no bootstrap servers): PLAINTEXT, or SASL/SCRAM over TLS."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return {"security_protocol": "PLAINTEXT"}
    return {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": settings.kafka_username,
        "sasl_plain_password": settings.kafka_password.get_secret_value(),
        "ssl_context": ssl_context(settings),
    }


def client_options(settings: CommonSettings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client of this service: where the broker is and how to log in."""
    return {"bootstrap_servers": settings.bootstrap_servers, **security_options(settings)}


def faust_credentials(settings: CommonSettings) -> faust.SASLCredentials | None:
    """Faust's `broker_credentials`: the same principal, mechanism and TLS as `client_options`; None
    (PLAINTEXT) for the embedded broker."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    return faust.SASLCredentials(
        username=settings.kafka_username,
        password=settings.kafka_password.get_secret_value(),
        mechanism=settings.kafka_sasl_mechanism,
        ssl_context=ssl_context(settings),
    )
