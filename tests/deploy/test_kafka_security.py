"""The cluster's Kafka authenticates and authorises: no PLAINTEXT listener, ACLs on, nothing allowed by
default, and each service's principal granted exactly the topics services/common/topics.py says it uses.

No broker runs here: docker-compose.yml and deploy/kafka/init-security.sh are read and checked against the
code."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from services.common.topics import AUDIT, PARTNER_OUTCOMES_PREFIX, PARTNER_SUBMITTED_PREFIX, SERVICE_ACCESS
from tests.deploy.operations_doc import REPO

COMPOSE_FILE = REPO / "docker-compose.yml"
INIT_SCRIPT = REPO / "deploy" / "kafka" / "init-security.sh"
WORKERS = {
    "intake": "sosafe-intake",
    "triage-1": "sosafe-triage",
    "triage-2": "sosafe-triage",
    "notify": "sosafe-notify",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def env(compose: dict[str, Any], service: str) -> dict[str, str]:
    return {name: str(value) for name, value in compose["services"][service]["environment"].items()}


def test_no_listener_is_plaintext_and_clients_use_scram_over_tls(compose: dict[str, Any]) -> None:
    kafka = env(compose, "kafka")
    protocols = dict(pair.split(":") for pair in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    listeners = [item.split("://")[0] for item in kafka["KAFKA_LISTENERS"].split(",")]
    assert set(listeners) == set(protocols)
    assert set(protocols.values()) == {"SASL_SSL"}, "every listener authenticates over TLS"
    assert "PLAINTEXT" not in kafka["KAFKA_LISTENERS"] + kafka["KAFKA_ADVERTISED_LISTENERS"]
    for client_listener in ("CLIENT", "EXTERNAL"):
        assert kafka[f"KAFKA_LISTENER_NAME_{client_listener}_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    for name in WORKERS:
        worker = env(compose, name)
        port = worker["SOSAFE_BROKER_URL"].rsplit(":", 1)[1]
        assert f"CLIENT://kafka:{port}" in kafka["KAFKA_ADVERTISED_LISTENERS"]
        assert worker["SOSAFE_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert worker["SOSAFE_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"


def test_the_authorizer_is_on_and_nothing_is_allowed_without_an_acl(compose: dict[str, Any]) -> None:
    kafka = env(compose, "kafka")
    assert kafka["KAFKA_AUTHORIZER_CLASS_NAME"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert kafka["KAFKA_SUPER_USERS"] == "User:admin", "only the broker/admin principal is a super user"


@pytest.mark.parametrize("name", list(WORKERS))
def test_each_worker_logs_in_as_its_own_principal_with_its_own_secrets(compose: dict[str, Any], name: str) -> None:
    worker = env(compose, name)
    service = WORKERS[name].removeprefix("sosafe-").upper()
    assert worker["SOSAFE_KAFKA_USERNAME"] == WORKERS[name]
    assert worker["SOSAFE_KAFKA_PASSWORD"].startswith(f"${{SOSAFE_KAFKA_PASSWORD_{service}:?")
    assert worker["SOSAFE_AUDIT_KEY"].startswith(f"${{SOSAFE_AUDIT_KEY_{service}:?")
    assert worker["SOSAFE_AUDIT_KEY_ID"].startswith(f"${{SOSAFE_AUDIT_KEY_ID_{service}:?")


def test_the_init_service_creates_the_password_each_worker_uses(compose: dict[str, Any]) -> None:
    init = env(compose, "kafka-security-init")
    for name, principal in WORKERS.items():
        prefix = principal.removeprefix("sosafe-").upper()
        assert init[f"{prefix}_PASSWORD"] == env(compose, name)["SOSAFE_KAFKA_PASSWORD"]
        assert principal in init["PRINCIPALS"].split()


@pytest.mark.parametrize("principal", sorted(SERVICE_ACCESS))
def test_each_service_principal_gets_exactly_its_topics(compose: dict[str, Any], principal: str) -> None:
    """The init service's lists are SERVICE_ACCESS of services/common/topics.py: no topic more, none fewer."""
    init = env(compose, "kafka-security-init")
    prefix = principal.removeprefix("sosafe-").upper()
    access = SERVICE_ACCESS[principal]
    assert sorted(init[f"{prefix}_READS"].split()) == sorted(access.reads)
    assert sorted(init[f"{prefix}_WRITES"].split()) == sorted(access.writes)
    assert sorted(init[f"{prefix}_CREATES"].split()) == sorted(access.creates)
    assert sorted(init.get(f"{prefix}_READ_PREFIXES", "").split()) == sorted(access.read_prefixes)
    assert sorted(init.get(f"{prefix}_WRITE_PREFIXES", "").split()) == sorted(access.write_prefixes)
    assert init[f"{prefix}_GROUP"] == principal, "its consumer group is its Faust app id"


def test_the_auditor_reads_the_audit_trail_only_and_partners_write_their_own_topic(compose: dict[str, Any]) -> None:
    init = env(compose, "kafka-security-init")
    assert init["AUDITOR_READS"] == AUDIT
    assert not {"AUDITOR_WRITES", "AUDITOR_CREATES", "AUDITOR_GROUP", "AUDITOR_READ_PREFIXES"} & set(init)
    assert init["PARTNER_TOPIC_PREFIX"] == PARTNER_SUBMITTED_PREFIX
    script = INIT_SCRIPT.read_text(encoding="utf-8")
    assert re.search(r'acl "partner-\$partner" Write --topic "\$PARTNER_TOPIC_PREFIX\$partner"', script)


def test_each_partner_reads_its_own_outcome_topic_only_and_notify_alone_writes_them(compose: dict[str, Any]) -> None:
    """`partner-<id>`: READ on the literal topic `referrals.outcomes.<id>` (never the prefix, which would be
    every partner's), in group `partner-<id>` or one prefixed `partner-<id>.`; notify WRITE on the prefix."""
    init = env(compose, "kafka-security-init")
    assert init["PARTNER_OUTCOMES_PREFIX"] == PARTNER_OUTCOMES_PREFIX
    script = INIT_SCRIPT.read_text(encoding="utf-8")
    partner_grants = re.findall(r'acl "partner-\$partner" (.*)', script)
    assert partner_grants == [
        'Write --topic "$PARTNER_TOPIC_PREFIX$partner"',
        'Read --topic "$PARTNER_OUTCOMES_PREFIX$partner"',
        'Read --group "partner-$partner"',
        'Read --resource-pattern-type prefixed --group "partner-$partner."',
    ], "a partner gets nothing else, and no prefixed topic grant"
    assert 'acl "$principal" Write --resource-pattern-type prefixed --topic "$topic_prefix"' in script
    writers = {name for name, access in SERVICE_ACCESS.items() if PARTNER_OUTCOMES_PREFIX in access.write_prefixes}
    assert writers == {"sosafe-notify"}
    assert not any(PARTNER_OUTCOMES_PREFIX in access.read_prefixes for access in SERVICE_ACCESS.values())


def test_the_script_grants_each_list_with_its_own_operation_and_nothing_broader() -> None:
    """Read, Write and Create per listed topic, Read on the group; no wildcard, no All, no cluster grant."""
    script = INIT_SCRIPT.read_text(encoding="utf-8")
    grants = re.findall(r'acl "\$principal" (\w+) (.*?); done', script)
    assert grants == [
        ("Read", '--topic "$topic"'),
        ("Write", '--topic "$topic"'),
        ("Create", '--topic "$topic"'),
    ]
    assert 'acl "$principal" Read --resource-pattern-type prefixed --topic "$topic_prefix"' in script
    assert 'acl "$principal" Read --group "${!group_var}"' in script
    assert not re.search(r"--operation All|--cluster|--topic '\*'|--topic \"\*\"|--group '\*'", script)
