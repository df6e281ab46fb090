"""Hypothesis strategies for messages a partner or an intruder might put on a topic: any bytes, JSON of any
shape, near-misses of a submission or an officer action, and well-formed ones mixed in."""

from __future__ import annotations

import orjson
from hypothesis import strategies as st

from schemas.action import ActionKind
from schemas.identity import referral_id_for
from tests.support.payloads import submission

KNOWN_REFERRALS = tuple(referral_id_for("dev-college", f"HOSTILE-ACTIONS-{n}") for n in range(4))
"""Referrals queued for sada before the actions test, so that some well-formed actions apply or are refused."""
UNKNOWN_OFFICER = "nobody-known"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
near_submissions = st.builds(
    lambda role, concerns, extra: {**submission(agency="college"), "role": role, "concerns": concerns, **extra},
    st.sampled_from(["victim", "perpetrator", "x", ""]),
    st.lists(st.sampled_from(["domestic_abuse", "hate_crime", "nonsense"]), max_size=3),
    st.dictionaries(st.sampled_from(["risk", "consent", "subject", "extra_field"]), json_values, max_size=2),
)
near_actions = st.fixed_dictionaries(
    {
        "action_id": st.text(min_size=0, max_size=5),
        "referral_id": st.sampled_from(KNOWN_REFERRALS) | st.text(max_size=40),
        "service": st.sampled_from(["sada", "sos", "nowhere"]),
        "kind": st.sampled_from(["claim", "accept", "explode"]),
        "officer_id": st.sampled_from(["dev-officer-sada", ""]),
        "requested_at": st.sampled_from(["2026-11-26T10:00:00Z", "yesterday"]),
    }
)
hostile = (
    st.binary(max_size=300)
    | json_values.map(orjson.dumps)
    | near_submissions.map(orjson.dumps)
    | near_actions.map(orjson.dumps)
)
well_formed_submissions = st.builds(
    lambda agency, reference: submission(agency=agency, reference=reference),
    st.sampled_from(["college", "police"]),
    st.none() | st.sampled_from(["HOSTILE-AGAIN-1", "HOSTILE-AGAIN-2"]),
)
"""Valid bare submissions, some for a partner reference already referred (a duplicate)."""
well_formed_actions = st.fixed_dictionaries(
    {
        "action_id": st.uuids().map(str) | st.text(alphabet="ab", min_size=1, max_size=2),
        "referral_id": st.sampled_from(KNOWN_REFERRALS) | st.uuids().map(str),
        "service": st.sampled_from(["sada", "sos"]),
        "kind": st.sampled_from([kind.value for kind in ActionKind]),
        "officer_id": st.sampled_from(["dev-officer-sada", "dev-officer-sos", "dev-manager", UNKNOWN_OFFICER]),
        "requested_at": st.just("2026-11-26T10:00:00Z"),
    },
    optional={"reason": st.just("Not for this service"), "to": st.sampled_from(["sos", "mnwg"])},
)
"""Officer actions that decode, on the known referrals or on none, some repeating an earlier action id."""


def batches(messages: st.SearchStrategy[bytes]) -> st.SearchStrategy[list[bytes]]:
    """A batch, then some of its messages sent again (a repeated submission is a duplicate, a repeated
    action is answered as before)."""
    return st.lists(messages, min_size=5, max_size=25).flatmap(
        lambda batch: st.lists(st.sampled_from(batch), max_size=3).map(lambda again: batch + again)
    )
