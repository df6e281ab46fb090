"""Who may call: partners (intake) and officers (triage), from the access file. Tokens stored hashed."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Annotated, TypeVar

import yaml
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from schemas.vocabulary import Agency, Service

T = TypeVar("T")
TokenHash = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]


def hash_token(token: str) -> str:
    """How a token is stored: `sha256:<hex>`. Tokens are long random strings, so no salt is needed."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


PartnerId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]
"""Letters, digits, `-` and `_`: it names the partner's own topic `referrals.submitted.<id>` (no dots, so the
topic names exactly one partner)."""


class OutcomesWebhook(BaseModel):
    """Where notify POSTs a partner's outcome events, and the environment variable holding the signing secret
    (`SOSAFE_WEBHOOK_SECRET_*`, like the services' webhooks: secrets never sit in the file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: AnyHttpUrl
    secret_env: Annotated[str, StringConstraints(pattern=r"^SOSAFE_WEBHOOK_SECRET_[A-Z0-9_]+$", max_length=128)]


class Partner(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: PartnerId
    agency: Agency
    system: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    token_sha256: TokenHash
    rate_limit_per_minute: int = Field(default=600, ge=1)
    outcomes_webhook: OutcomesWebhook | None = None
    """Optional: where the partner is told its referrals' outcomes (docs/webhooks.md); it may poll instead."""
    outcomes_topic: bool = False
    """Optional: also copy its referrals' outcomes onto its own topic `referrals.outcomes.<id>`, for a partner
    that consumes from Kafka (docs/webhooks.md#outcome-topics); off, nothing is written there."""


class Officer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    services: frozenset[Service] = frozenset()
    manager: bool = False
    token_sha256: TokenHash

    @property
    def scope(self) -> frozenset[Service]:
        """The queues this officer may see: all of them for a manager."""
        return frozenset(Service) if self.manager else self.services


class AccessFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    partners: list[Partner] = []
    officers: list[Officer] = []

    @model_validator(mode="after")
    def _unique(self) -> AccessFile:
        for kind, ids in (("partner", [p.id for p in self.partners]), ("officer", [o.id for o in self.officers])):
            if len(ids) != len(set(ids)):
                raise ValueError(f"{kind} ids repeat")
        hashes = [p.token_sha256 for p in self.partners] + [o.token_sha256 for o in self.officers]
        if len(hashes) != len(set(hashes)):
            raise ValueError("two entries share a token")
        systems = [p.system for p in self.partners]
        shared = sorted({system for system in systems if systems.count(system) > 1})
        if shared:  # a referral id is derived from source.system: two partners would share every id
            raise ValueError(f"partners share system {', '.join(shared)}: each partner needs its own system")
        return self


class AccessError(RuntimeError):
    """The access file is unreadable or invalid; one sentence for the operator."""


def load_access(path: Path) -> AccessFile:
    try:
        raw = yaml.safe_load(path.read_text()) or {}
        return AccessFile.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise AccessError(f"access file {path} cannot be read: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"])
        raise AccessError(f"access file {path}: {loc}: {first['msg']}") from exc


class Registry:
    """Looks up the holder of a bearer token in constant time per entry."""

    def __init__(self, access: AccessFile) -> None:
        self._partners = [(p.token_sha256.encode(), p) for p in access.partners]
        self._officers = [(o.token_sha256.encode(), o) for o in access.officers]

    @staticmethod
    def _find(token: str, entries: list[tuple[bytes, T]]) -> T | None:
        presented = hash_token(token).encode()
        found: T | None = None
        for stored, entry in entries:  # compare against every entry: timing does not reveal which matched
            if hmac.compare_digest(stored, presented):
                found = entry
        return found

    def partner(self, token: str) -> Partner | None:
        return self._find(token, self._partners)

    def officer(self, token: str) -> Officer | None:
        return self._find(token, self._officers)


def partner_by_id(access: AccessFile, partner_id: str) -> Partner | None:
    return next((p for p in access.partners if p.id == partner_id), None)


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 512:
        return None
    return token.strip()
