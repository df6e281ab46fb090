"""Every Kafka client a service builds logs in the same way, as the service's own principal (pure)."""

from __future__ import annotations

import ssl
from pathlib import Path

import certifi
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import ValidationError

from services.common.faust_app import make_app
from services.common.kafka_security import client_options, faust_credentials, security_options
from services.common.settings import CommonSettings, DevelopmentDefaultInUse
from services.intake.settings import IntakeSettings
from services.notify.settings import NotifySettings
from services.triage.settings import TriageSettings

SERVICES = {"intake": IntakeSettings, "triage": TriageSettings, "notify": NotifySettings}
CA = Path(certifi.where())
"""Any PEM bundle of CAs will do to build a TLS context; the deployment's own is deploy/kafka/certs/ca.pem."""


def cluster(service: str) -> CommonSettings:
    settings: CommonSettings = SERVICES[service](
        broker_url="kafka://kafka:9095,kafka://kafka-2:9095",
        kafka_security_protocol="SASL_SSL",
        kafka_username=f"sosafe-{service}",
        kafka_password=f"{service}-scram-password",
        kafka_ca_file=CA,
    )
    return settings


def test_the_embedded_broker_is_plaintext_for_every_client() -> None:
    settings = IntakeSettings(embedded_broker=True)
    assert client_options(settings) == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}
    assert faust_credentials(settings) is None


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_on_a_cluster_each_service_logs_in_as_its_own_principal_with_scram_over_verified_tls(service: str) -> None:
    options = client_options(cluster(service))
    context = options.pop("ssl_context")
    assert options == {
        "bootstrap_servers": "kafka:9095,kafka-2:9095",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": f"sosafe-{service}",
        "sasl_plain_password": f"{service}-scram-password",
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_the_faust_app_uses_the_same_principal_as_the_raw_clients(service: str, tmp_path: Path) -> None:
    """What Faust hands aiokafka from `broker_credentials` equals `security_options`, but for the context."""
    settings = cluster(service).model_copy(update={"data_dir": tmp_path})
    app = make_app(f"sosafe-{service}", settings, 6066)
    from_faust = credentials_to_aiokafka_auth(app.conf.broker_credentials)
    ours = security_options(settings)
    assert isinstance(from_faust.pop("ssl_context"), ssl.SSLContext) and ours.pop("ssl_context")
    assert from_faust == ours


def test_sasl_without_a_username_or_password_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match="SOSAFE_KAFKA_USERNAME is required"):
        CommonSettings(kafka_security_protocol="SASL_SSL", kafka_password="p")
    with pytest.raises(ValidationError, match="SOSAFE_KAFKA_PASSWORD is required"):
        CommonSettings(kafka_security_protocol="SASL_SSL", kafka_username="sosafe-intake")
    with pytest.raises(ValidationError, match="SOSAFE_KAFKA_CERT_FILE and SOSAFE_KAFKA_KEY_FILE go together"):
        CommonSettings(kafka_cert_file=CA)


@pytest.mark.parametrize("broker", ["kafka://kafka:9092", "kafka://127.0.0.1:9092,kafka://10.0.0.5:9092"])
def test_a_worker_refuses_a_remote_broker_without_sasl_unless_embedded(broker: str) -> None:
    secrets = {"audit_key": "a-long-random-audit-key", "audit_key_id": "notify-1"}
    with pytest.raises(DevelopmentDefaultInUse, match=r"^SOSAFE_KAFKA_SECURITY_PROTOCOL is PLAINTEXT but the broker"):
        NotifySettings(broker_url=broker, **secrets).refuse_development_defaults()
    NotifySettings(broker_url=broker, embedded_broker=True).refuse_development_defaults()


@pytest.mark.parametrize("broker", ["kafka://127.0.0.1:9092", "kafka://localhost:9092", "kafka://[::1]:9092"])
def test_a_plaintext_broker_on_this_machine_is_allowed(broker: str) -> None:
    secrets = {"audit_key": "a-long-random-audit-key", "audit_key_id": "notify-1"}
    NotifySettings(broker_url=broker, **secrets).refuse_development_defaults()
