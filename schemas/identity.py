"""Deterministic identities: the referral id and the subject key."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
import uuid
from datetime import date

REFERRAL_NAMESPACE = uuid.UUID("6f1d3c52-8a4e-5b7c-9d2e-53f0a1b2c3d4")
"""Fixed namespace of SoSafe referral ids; changing it would re-identify every referral."""


def referral_id_for(system: str, reference: str) -> str:
    """UUIDv5 of (`source.system`, `source.reference`): a resubmission gets the same id."""
    return str(uuid.uuid5(REFERRAL_NAMESPACE, f"{system}\x1f{reference}"))


def _normalise(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name).casefold()
    return "".join(ch for ch in decomposed if ch.isalnum())


def subject_key_for(
    key: bytes, given_name: str | None, family_name: str | None, date_of_birth: date | None
) -> str | None:
    """HMAC-SHA256 of normalised family name, given name and birth date; None when any is missing.

    The subject is only recognised across referrals when all three are known: a partial match would
    join different people's histories.
    """
    if not given_name or not family_name or date_of_birth is None:
        return None
    message = "\x1f".join((_normalise(family_name), _normalise(given_name), date_of_birth.isoformat()))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()
