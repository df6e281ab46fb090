"""Which model each topic carries: the one registry the agents decode and dead-letter by.

The contract topics come from `schemas.codec.TOPIC_MODELS` (what partners and consumers are promised); the
internal topics that carry a contract model are added here. A service reading an internal topic of its own
adds that one entry where it decodes it (triage: its SLA checks). An agent decodes with
`services.common.dead_letters.decode_or_dead_letter`, then dispatches on the decoded model's type.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from pydantic import BaseModel

from schemas.codec import TOPIC_MODELS
from schemas.referral import Referral
from services.common import topics

MODELS: Final[Mapping[str, type[BaseModel]]] = MappingProxyType(
    {
        **TOPIC_MODELS,
        topics.INTAKE_VALIDATED: Referral,
        topics.TRIAGE_BY_SUBJECT: Referral,
    }
)
"""Every topic a service decodes, contract or internal, and the model of its values."""
