"""Settings every service shares. Only pydantic-settings reads the environment (prefix `SOSAFE_`)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.audit_keys import DEVELOPMENT_AUDIT_KEY, DEVELOPMENT_AUDIT_KEY_ID, AuditKeyring
from services.common.send_faults import parse_faults

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_CONFIG = REPO_ROOT / "deploy" / "config" / "dev.yaml"


class DevelopmentDefaultInUse(RuntimeError):
    """A secret a worker needs is unset, or still holds its development default, outside development; or the
    broker is on another machine and reached without authentication."""


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (`127.0.0.0/8`, `::1`)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def broker_host(server: str) -> str:
    """The host of `host:port` (or `[v6]:port`)."""
    if server.startswith("["):
        return server[1:].split("]", 1)[0]
    return server.rsplit(":", 1)[0] if server.count(":") == 1 else server


class CommonSettings(BaseSettings):
    """Broker, access file, logging and the embedded-broker tuning (docs/architecture.md#the-embedded-broker)."""

    model_config = SettingsConfigDict(env_prefix="SOSAFE_", extra="ignore", frozen=True, env_ignore_empty=True)

    broker_url: str = "kafka://127.0.0.1:9092"
    embedded_broker: bool = Field(
        default=False,
        description="Tune for the embedded Tansu broker: one record per producer batch, short sessions.",
    )
    topic_partitions: int = Field(default=4, ge=1, le=256)
    session_timeout_s: float = Field(default=6.0, gt=0)
    heartbeat_interval_s: float = Field(default=1.0, gt=0)
    fetch_max_wait_ms: int = Field(default=25, ge=0, le=60_000)
    """How long the broker may hold an empty fetch open. Faust hard-codes 1,500 ms; on the embedded broker
    that added about 0.7 s to each hop through a table-writing agent (measured, docs/benchmarks.md)."""
    consumer_trace: bool = Field(
        default=False,
        description="Log every fetched stream message's offset and verdict (diagnosing delivery; off in production).",
    )
    config_file: Path = DEV_CONFIG
    subject_key_secret: SecretStr = SecretStr("dev-only-subject-key-change-me")
    log_level: str = "INFO"
    data_dir: Path = REPO_ROOT / "var"
    table_store: Literal["rocksdb://", "memory://"] = Field(
        default="rocksdb://",
        description="Where Faust tables live: RocksDB on local disk (kept across restarts), or memory (tests).",
    )
    state_dir: Path | None = Field(
        default=None,
        description="This worker's local table state; default `<data_dir>/state`. One per replica on a machine.",
    )
    web_bind: str = "127.0.0.1"
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve /metrics only on this port (the cluster); unset: on the service's own port (development).",
    )
    console_base_url: str = "http://127.0.0.1:8002"
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT",
        description="SASL_SSL on a cluster (SCRAM over TLS); PLAINTEXT only for a broker on this machine.",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_username: str = Field(default="", description="This service's own principal, e.g. sosafe-intake.")
    kafka_password: SecretStr = SecretStr("")
    kafka_ca_file: Path | None = Field(
        default=None, description="PEM CA that signed the broker's certificate; the system's CAs when unset."
    )
    kafka_cert_file: Path | None = Field(default=None, description="Client certificate (PEM), for mutual TLS.")
    kafka_key_file: Path | None = Field(default=None, description="The client certificate's private key (PEM).")
    audit_key: SecretStr = SecretStr(DEVELOPMENT_AUDIT_KEY)
    """This service's secret for signing its audit events (HMAC-SHA-256); its own, not shared with another."""
    audit_key_id: str = DEVELOPMENT_AUDIT_KEY_ID
    audit_keys_previous: SecretStr = Field(
        default=SecretStr(""),
        description="`id:secret,...`: this service's earlier audit keys, so events signed under them verify.",
    )
    audit_verify_keys: SecretStr = Field(
        default=SecretStr(""),
        description="`id:secret,...`: every other service's audit keys, for `sosafe audit verify` only.",
    )
    fault_fail_sends: str = Field(
        default="",
        description="Fault tests only, embedded broker only: `topic:n,...` fails the nth send to each topic once.",
    )

    required_outside_development: ClassVar[tuple[str, ...]] = ()
    """The secrets this worker uses: outside development each must be set, and not to its default."""
    required_of_every_worker: ClassVar[tuple[str, ...]] = ("audit_key",)

    def refuse_development_defaults(self) -> None:
        """Raise `DevelopmentDefaultInUse`, naming the setting, when a secret this worker uses is unset or
        holds its public development default, unless on the embedded broker (development and tests).
        Checked by each worker at start-up; other commands (audit verify, migrations) need none.

        Also refuses a broker on another machine reached without authentication (PLAINTEXT)."""
        if self.embedded_broker:
            return
        self.refuse_unauthenticated_remote_broker()
        for name in (*self.required_outside_development, *self.required_of_every_worker):
            value, default = getattr(self, name), type(self).model_fields[name].default
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if isinstance(default, SecretStr):
                default = default.get_secret_value()
            if not value or value == default:
                raise DevelopmentDefaultInUse(
                    f"SOSAFE_{name.upper()} is unset or holds its development default: set it to a long random "
                    "secret (docs/operations.md#secrets); defaults are only for the embedded broker "
                    "(SOSAFE_EMBEDDED_BROKER=true)"
                )
        if self.audit_key_id == DEVELOPMENT_AUDIT_KEY_ID:
            raise DevelopmentDefaultInUse(
                f"SOSAFE_AUDIT_KEY_ID is the development key's id {DEVELOPMENT_AUDIT_KEY_ID!r}: give this service's "
                "audit key its own id (docs/operations.md#audit-keys)"
            )

    def refuse_unauthenticated_remote_broker(self) -> None:
        """Raise `DevelopmentDefaultInUse`, naming the setting, for a PLAINTEXT broker not on this machine."""
        if self.embedded_broker or self.kafka_security_protocol != "PLAINTEXT":
            return
        remote = [server for server in self.bootstrap_servers.split(",") if not is_loopback(broker_host(server))]
        if remote:
            raise DevelopmentDefaultInUse(
                f"SOSAFE_KAFKA_SECURITY_PROTOCOL is PLAINTEXT but the broker ({', '.join(remote)}) is not on this "
                "machine: set SOSAFE_KAFKA_SECURITY_PROTOCOL=SASL_SSL with this service's SOSAFE_KAFKA_USERNAME "
                "and SOSAFE_KAFKA_PASSWORD (docs/operations.md#kafka-principals); an unauthenticated broker is "
                "only for the embedded broker (SOSAFE_EMBEDDED_BROKER=true)"
            )

    @property
    def audit_keyring(self) -> AuditKeyring:
        """The key this service signs audit events with and the keys it verifies them with."""
        return AuditKeyring.of(
            self.audit_key_id,
            self.audit_key.get_secret_value(),
            self.audit_keys_previous.get_secret_value(),
            self.audit_verify_keys.get_secret_value(),
        )

    @model_validator(mode="after")
    def _kafka_credentials_complete(self) -> CommonSettings:
        if self.kafka_security_protocol == "SASL_SSL":
            if not self.kafka_username:
                raise ValueError("SOSAFE_KAFKA_USERNAME is required with SOSAFE_KAFKA_SECURITY_PROTOCOL=SASL_SSL")
            if not self.kafka_password.get_secret_value():
                raise ValueError("SOSAFE_KAFKA_PASSWORD is required with SOSAFE_KAFKA_SECURITY_PROTOCOL=SASL_SSL")
        if (self.kafka_cert_file is None) != (self.kafka_key_file is None):
            raise ValueError("SOSAFE_KAFKA_CERT_FILE and SOSAFE_KAFKA_KEY_FILE go together: set both or neither")
        self.audit_keyring  # a malformed key id or key list stops start-up, naming the entry  # noqa: B018
        return self

    @model_validator(mode="after")
    def _faults_only_in_development(self) -> CommonSettings:
        if self.fault_fail_sends and not self.embedded_broker:
            raise ValueError("SOSAFE_FAULT_FAIL_SENDS is for fault tests on the embedded broker only")
        parse_faults(self.fault_fail_sends)  # a malformed spec stops start-up, naming the entry
        return self

    @property
    def tables_dir(self) -> Path:
        """The directory holding every app's table state for this worker (RocksDB takes a lock on it)."""
        return self.state_dir if self.state_dir is not None else self.data_dir / "state"

    @property
    def broker_urls(self) -> list[str]:
        return [url.strip() for url in self.broker_url.split(",") if url.strip()]

    @property
    def bootstrap_servers(self) -> str:
        """host:port list for aiokafka (the `kafka://` scheme stripped)."""
        return ",".join(url.split("://", 1)[-1] for url in self.broker_urls)
