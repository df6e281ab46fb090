"""The topic registry: every topic a service decodes has a model, and the contract part is the published one."""

from __future__ import annotations

from schemas.codec import TOPIC_MODELS
from schemas.referral import Referral
from services.common import topics
from services.common.topic_models import MODELS
from services.triage.agents import TRIAGE_MODELS
from services.triage.cases.records import SlaCheck


def test_every_contract_topic_has_its_published_model() -> None:
    assert set(TOPIC_MODELS) == set(topics.CONTRACT_TOPICS)
    assert {topic: MODELS[topic] for topic in topics.CONTRACT_TOPICS} == TOPIC_MODELS


def test_every_internal_topic_an_agent_reads_has_a_model() -> None:
    changelogs = {topic for topic in topics.internal_topics() if topic.endswith("-changelog")}
    assert set(topics.internal_topics()) - changelogs == {
        topics.INTAKE_VALIDATED,
        topics.TRIAGE_BY_SUBJECT,
        topics.TRIAGE_SLA_CHECKS,
    }
    assert MODELS[topics.INTAKE_VALIDATED] is Referral
    assert MODELS[topics.TRIAGE_BY_SUBJECT] is Referral
    assert TRIAGE_MODELS[topics.TRIAGE_SLA_CHECKS] is SlaCheck
    assert topics.TRIAGE_SLA_CHECKS not in MODELS  # triage's own: only triage decodes it
