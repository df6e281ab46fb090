"""The model base every message shares: frozen, unknown fields rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """A frozen message; unknown fields are an error, never silently kept or dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)
