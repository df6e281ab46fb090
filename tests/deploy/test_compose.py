"""docker-compose.yml: a valid Compose file whose services, ports, settings and topics match the code.

No Docker engine runs here, so the file is checked against the Compose Specification's JSON Schema
(tests/data/compose-spec.json) and against what the code reads.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from services.common.access import load_access
from services.common.settings import DEV_CONFIG
from services.common.topics import all_topics, partner_outcomes, partner_submitted
from services.notify.routing import load_notify_routing
from tests.deploy.operations_doc import REPO

COMPOSE_FILE = REPO / "docker-compose.yml"
COMPOSE_SCHEMA = REPO / "tests" / "data" / "compose-spec.json"
PRODUCTION_CONFIG = REPO / "deploy" / "config" / "production.example.yaml"

# Compose service -> (SoSafe service it runs, host port it is published on).
WORKERS = {
    "intake": ("intake", 8001),
    "triage-1": ("triage", 8002),
    "triage-2": ("triage", 8012),
    "notify": ("notify", 8003),
}
SUBSTITUTION = re.compile(r"^\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}$")
TOPIC_GROUPS = ("FOREVER", "COMPACTED", "RESTRICTED", "EVENT")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))  # resolves the `<<:` merges
    assert isinstance(document, dict)
    return document


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment is written as a mapping"
    return {name: str(value) for name, value in env.items()}


def default_of(value: str) -> str:
    """The value Compose uses when the variable is unset: `${X:-default}` -> default, a literal as is."""
    match = SUBSTITUTION.match(value)
    if match and match["op"] == ":-":
        return match["arg"]
    return value


def topic_init_groups(compose: dict[str, Any]) -> dict[str, tuple[list[str], str]]:
    env = environment(compose["services"]["topic-init"])
    return {group: (env[f"{group}_TOPICS"].split(), env[f"{group}_CONFIG"]) for group in TOPIC_GROUPS}


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    """The file validates against compose-spec's JSON Schema (draft-07)."""
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_the_cluster_has_every_part_of_the_design(compose: dict[str, Any]) -> None:
    """Kafka, topic initialisation, the workers, Prometheus, Grafana and a mail catcher."""
    assert set(compose["services"]) >= {"kafka", "topic-init", "prometheus", "grafana", "mailpit", *WORKERS}


@pytest.mark.parametrize(("name", "service", "host_port"), [(n, s, p) for n, (s, p) in WORKERS.items()])
def test_each_worker_runs_its_service_on_its_port(
    compose: dict[str, Any], name: str, service: str, host_port: int
) -> None:
    """`worker <service>`; the container port is SOSAFE_<SERVICE>_PORT, published on the expected host port."""
    spec = compose["services"][name]
    assert spec["command"] == ["worker", service]
    port = int(environment(spec)[f"SOSAFE_{service.upper()}_PORT"])
    published = [str(entry).rsplit(":", 2)[-2:] for entry in spec["ports"]]
    assert published == [[str(host_port), str(port)]]
    assert f"127.0.0.1:{port}/healthz" in " ".join(spec["healthcheck"]["test"])


@pytest.mark.parametrize("name", list(WORKERS))
def test_every_sosafe_variable_a_worker_sets_is_a_setting_its_service_reads(compose: dict[str, Any], name: str) -> None:
    """Each SOSAFE_* variable names a field of the service's pydantic Settings (a typo would be ignored)."""
    service = WORKERS[name][0]
    class_name = f"{service.capitalize()}Settings"
    try:
        settings_class = getattr(importlib.import_module(f"services.{service}.settings"), class_name)
    except (ImportError, AttributeError) as exc:  # the service is still being built
        pytest.skip(f"services.{service}.settings.{class_name} cannot be imported yet: {exc}")
    fields = {f"SOSAFE_{field.upper()}" for field in settings_class.model_fields}
    # Webhook secrets are not settings: the notify: section names the variable that holds each one.
    webhook_secrets = (
        {name for name in environment(compose["services"][name]) if name.startswith("SOSAFE_WEBHOOK_SECRET_")}
        if service == "notify"
        else set()
    )
    unknown = {name for name in environment(compose["services"][name]) if name.startswith("SOSAFE_")}
    unknown -= fields | webhook_secrets
    assert not unknown, f"{name} sets variables {class_name} does not read: {sorted(unknown)}"


def test_webhook_secret_variables_are_the_ones_the_notify_config_names(compose: dict[str, Any]) -> None:
    """notify gets exactly the SOSAFE_WEBHOOK_SECRET_* variables that `secret_env` names in the config."""
    routing = load_notify_routing(PRODUCTION_CONFIG)
    named = {c.webhook.secret_env for c in routing.services.values() if c.webhook is not None}
    given = {name for name in environment(compose["services"]["notify"]) if name.startswith("SOSAFE_WEBHOOK_SECRET_")}
    assert given == named


def test_secrets_are_substituted_from_the_environment_never_written_in_the_file(compose: dict[str, Any]) -> None:
    """Every secret-looking variable is `${VAR:?message}` (required) or `${VAR:-}` (optional, empty)."""
    checked = 0
    for name, spec in compose["services"].items():
        for variable, value in environment(spec).items():
            if not re.search(r"SECRET|PASSWORD|TOKEN", variable):
                continue
            checked += 1
            match = SUBSTITUTION.match(value)
            assert match is not None, f"{name}: {variable} is written in the file"
            assert match["op"] == ":?" or (match["op"] == ":-" and match["arg"] == ""), (
                f"{name}: {variable} has a literal default"
            )
    assert checked >= 10


def test_topic_init_creates_every_topic_of_the_code_exactly_once(compose: dict[str, Any]) -> None:
    """The topic lists of topic-init are all_topics() of services/common/topics.py, no more, no fewer."""
    listed = [topic for topics, _ in topic_init_groups(compose).values() for topic in topics]
    assert len(listed) == len(set(listed)), "a topic is listed twice"
    assert set(listed) == set(all_topics())


def partner_topics_of_topic_init(compose: dict[str, Any], access_file: Path) -> list[str]:
    """What topic-init's `partner_topics=` line finds in an access file, run by bash as topic-init runs it."""
    [command] = compose["services"]["topic-init"]["command"]
    [line] = [line.strip() for line in command.splitlines() if line.strip().startswith("partner_topics=")]
    script = line.replace("$$", "$") + '\nprintf "%s\\n" $partner_topics'
    done = subprocess.run(
        ["bash", "-c", script], env={"ACCESS_FILE": str(access_file)}, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


@pytest.mark.parametrize("access_file", [PRODUCTION_CONFIG, DEV_CONFIG], ids=["production-example", "dev"])
def test_topic_init_creates_a_submission_and_an_outcome_topic_for_each_partner_of_the_mounted_access_file(
    compose: dict[str, Any], access_file: Path
) -> None:
    """referrals.submitted.<partner id> and referrals.outcomes.<partner id> for every partner of the access file
    topic-init mounts (what all_topics() adds for them), and no officer."""
    spec = compose["services"]["topic-init"]
    mounted = environment(spec)["ACCESS_FILE"]
    assert any(str(volume).endswith(f":{mounted}:ro") for volume in spec["volumes"])
    assert environment(spec)["ACCESS_FILE"] == environment(compose["services"]["intake"])["SOSAFE_CONFIG_FILE"]
    partners = [partner.id for partner in load_access(access_file).partners]
    expected = [topic for partner in partners for topic in (partner_submitted(partner), partner_outcomes(partner))]
    assert len(partners) >= 2
    assert set(expected) == set(all_topics(partners)) - set(all_topics())
    assert partner_topics_of_topic_init(compose, access_file) == expected


def test_audit_topic_is_kept_forever_and_never_compacted(compose: dict[str, Any]) -> None:
    """audit.events: cleanup.policy=delete with unlimited retention (the audit trail is append-only)."""
    topics, config = topic_init_groups(compose)["FOREVER"]
    settings = dict(pair.split("=", 1) for pair in config.split(","))
    assert topics == ["audit.events"]
    assert settings == {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}


def test_table_changelogs_are_compacted_and_nothing_else_is(compose: dict[str, Any]) -> None:
    """Only Faust changelog topics are compacted."""
    groups = topic_init_groups(compose)
    compacted, config = groups["COMPACTED"]
    assert config == "cleanup.policy=compact"
    assert set(compacted) == {topic for topic in all_topics() if topic.endswith("-changelog")}
    for group in ("FOREVER", "RESTRICTED", "EVENT"):
        assert "cleanup.policy=delete" in groups[group][1]


def test_services_and_topic_init_use_one_partition_count(compose: dict[str, Any]) -> None:
    """The workers' SOSAFE_TOPIC_PARTITIONS is the count topic-init creates (a mismatch clashes with the changelogs)."""
    count = environment(compose["services"]["topic-init"])["TOPIC_PARTITIONS"]
    assert int(default_of(count)) >= 2
    for name in WORKERS:
        assert environment(compose["services"][name])["SOSAFE_TOPIC_PARTITIONS"] == count
    assert environment(compose["services"]["kafka"])["KAFKA_NUM_PARTITIONS"] == count


@pytest.mark.parametrize("name", list(WORKERS))
def test_workers_start_after_the_topics_exist_and_talk_to_kafka(compose: dict[str, Any], name: str) -> None:
    """Each worker waits for topic-init and kafka-security-init to finish and uses the cluster broker's
    client listener, not the embedded one."""
    spec = compose["services"][name]
    assert spec["depends_on"]["topic-init"] == {"condition": "service_completed_successfully"}
    env = environment(spec)
    assert spec["depends_on"]["kafka-security-init"] == {"condition": "service_completed_successfully"}
    assert env["SOSAFE_BROKER_URL"] == "kafka://kafka:9095"
    assert env["SOSAFE_EMBEDDED_BROKER"] == "false"
    assert env["SOSAFE_WEB_BIND"] == "0.0.0.0"


def test_files_mounted_by_default_exist(compose: dict[str, Any]) -> None:
    """Every bind mount's default source path is in the repository."""
    sources = {
        default_of(str(volume).split(":/", 1)[0])
        for spec in compose["services"].values()
        for volume in spec.get("volumes", [])
    }
    local = {source for source in sources if source.startswith("./")}
    assert local, "expected bind mounts of the deploy files"
    missing = sorted(source for source in local if not (REPO / source).exists())
    assert not missing


def test_worker_config_file_is_the_mounted_access_file(compose: dict[str, Any]) -> None:
    """SOSAFE_CONFIG_FILE points at where the access file is mounted, and the template loads."""
    for name in WORKERS:
        spec = compose["services"][name]
        config_file = environment(spec)["SOSAFE_CONFIG_FILE"]
        assert any(str(volume).endswith(f":{config_file}:ro") for volume in spec["volumes"])
    access = load_access(PRODUCTION_CONFIG)
    assert access.partners and access.officers and any(o.manager for o in access.officers)


def test_production_template_routes_notifications_for_every_service() -> None:
    """The notify: section names a team, a manager and a webhook for each service."""
    from schemas.vocabulary import Service

    routing = load_notify_routing(PRODUCTION_CONFIG)
    assert set(routing.services) == set(Service)
    for contacts in routing.services.values():
        assert contacts.team_email and contacts.manager_email and contacts.webhook is not None


def test_production_template_holds_no_usable_token() -> None:
    """The template's token hashes are placeholders, not the hashes of the published dev tokens."""
    dev = load_access(REPO / "deploy" / "config" / "dev.yaml")
    template = load_access(PRODUCTION_CONFIG)
    dev_hashes = {e.token_sha256 for e in [*dev.partners, *dev.officers]}
    template_hashes = {e.token_sha256 for e in [*template.partners, *template.officers]}
    assert not dev_hashes & template_hashes
    assert all(re.fullmatch(r"sha256:0+[0-9a-f]{1,2}", h) for h in template_hashes)


def test_image_runs_the_sosafe_command_as_a_non_root_user() -> None:
    """The Dockerfile's final stage: python:3.11-slim, a non-root USER, ENTRYPOINT ["sosafe"]."""
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    final_stage = dockerfile.rsplit("\nFROM ", 1)[-1]
    assert final_stage.startswith("python:3.11-slim")
    users = re.findall(r"^USER\s+(\S+)", final_stage, flags=re.MULTILINE)
    assert users and not users[-1].startswith(("root", "0"))
    assert 'ENTRYPOINT ["sosafe"]' in final_stage
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignored[0] == "*" or ".venv" in ignored


def test_ruleset_mount_is_the_file_triage_reads(compose: dict[str, Any]) -> None:
    """SOSAFE_RULESET_FILE of each triage replica is where the ruleset is mounted."""
    for name in ("triage-1", "triage-2"):
        spec = compose["services"][name]
        ruleset = environment(spec)["SOSAFE_RULESET_FILE"]
        assert any(str(volume).endswith(f":{ruleset}:ro") for volume in spec["volumes"])
        assert Path(ruleset).is_absolute()
