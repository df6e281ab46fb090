"""The partner of a direct producer comes from the topic it wrote to, never from what the message says."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from schemas.rejection import RejectionReason
from services.common import topics
from services.common.access import AccessError, load_access
from services.common.settings import DEV_CONFIG
from services.intake.envelopes import open_message, partner_of_topic
from services.intake.subscriptions import submission_topics
from services.intake.validation import SubmissionInvalid
from tests.support.config import access_with_partner
from tests.support.payloads import submission

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ACCESS = load_access(DEV_CONFIG)
POLICE = next(p for p in ACCESS.partners if p.id == "dev-police")


def opened_on(topic: str, body: object) -> tuple[str, str]:
    producer = partner_of_topic(ACCESS, topic)
    opened = open_message(
        orjson.dumps(body), access=ACCESS, producer=producer, topic=topic, partition=0, offset=1, timestamp=NOW
    )
    return opened.partner.id, opened.envelope.channel.value


def rejected_on(topic: str, body: object) -> SubmissionInvalid:
    with pytest.raises(SubmissionInvalid) as caught:
        opened_on(topic, body)
    return caught.value


def test_a_partner_topic_is_named_for_the_partner_and_names_it_back() -> None:
    assert topics.partner_submitted("dev-police") == "referrals.submitted.dev-police"
    assert topics.partner_of_topic("referrals.submitted.dev-police") == "dev-police"
    assert topics.partner_of_topic(topics.SUBMITTED) is None
    assert topics.partner_of_topic("referrals.submitted.") is None
    assert topics.partner_of_topic(topics.ACCEPTED) is None
    assert topics.partner_of_topic(topics.partner_outcomes("dev-police")) is None


def test_every_topic_includes_one_submission_topic_per_partner_given() -> None:
    names = topics.all_topics(p.id for p in ACCESS.partners)
    assert set(names) - set(topics.all_topics()) == {
        f"referrals.{kind}.{p.id}" for p in ACCESS.partners for kind in ("submitted", "outcomes")
    }


def test_a_submission_on_its_own_partner_topic_is_that_partner_s() -> None:
    assert opened_on("referrals.submitted.dev-police", submission(agency="police")) == ("dev-police", "kafka")


@pytest.mark.parametrize(
    ("source", "loc"),
    [
        ({"agency": "hospital", "system": "dev-hospital"}, "source.agency"),
        ({"agency": "police", "system": "dev-hospital"}, "source.system"),
    ],
)
def test_a_submission_claiming_another_agency_or_system_is_a_partner_mismatch(source: dict, loc: str) -> None:
    body = {**submission(agency="police"), "source": {**submission(agency="police")["source"], **source}}
    exc = rejected_on("referrals.submitted.dev-police", body)
    assert exc.reason == RejectionReason.partner_mismatch
    assert [(e.loc, e.code) for e in exc.errors] == [(loc, "partner_mismatch")]


def test_an_envelope_naming_another_partner_on_a_partner_topic_is_a_partner_mismatch() -> None:
    body = {
        "envelope_version": "1",
        "submission_id": "s1",
        "partner_id": "dev-hospital",
        "channel": "kafka",
        "received_at": NOW.isoformat(),
        "payload": submission(agency="hospital"),
    }
    exc = rejected_on("referrals.submitted.dev-police", body)
    assert exc.reason == RejectionReason.partner_mismatch and exc.errors[0].loc == "partner_id"


def test_a_topic_of_no_registered_partner_is_rejected_whatever_it_holds() -> None:
    with pytest.raises(SubmissionInvalid) as caught:
        partner_of_topic(ACCESS, "referrals.submitted.nobody")
    assert caught.value.reason == RejectionReason.unknown_partner_topic
    with pytest.raises(SubmissionInvalid):
        partner_of_topic(ACCESS, "some.other.topic")


def test_intake_s_own_topic_takes_the_partner_from_the_envelope_it_wrote() -> None:
    assert partner_of_topic(ACCESS, topics.SUBMITTED) is None
    assert opened_on(topics.SUBMITTED, submission(agency="gp"))[0] == "dev-gp"


def test_intake_reads_its_own_topic_every_partner_s_and_unregistered_partner_topics_found() -> None:
    found = {"referrals.submitted.dev-police", "referrals.submitted.gone"}
    subscribed = submission_topics(ACCESS, found)
    assert subscribed[0] == topics.SUBMITTED
    assert set(subscribed) == {topics.SUBMITTED, *topics.partner_topics(p.id for p in ACCESS.partners), *found}
    assert len(subscribed) == len(set(subscribed))


def test_a_partner_id_that_cannot_name_a_topic_is_refused(tmp_path: Path) -> None:
    path = access_with_partner(tmp_path / "access.yaml", "has.dot", "a-token-for-the-dotted-partner", 10)
    with pytest.raises(AccessError, match=r"partners\.\d+\.id"):
        load_access(path)
