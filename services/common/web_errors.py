"""The JSON error shape of every HTTP interface: {"error", "detail", "errors"}."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from faust.web import Response, View

from schemas.rejection import FieldError

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "detail", "errors"],
    "properties": {
        "error": {"type": "string"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "code", "message"],
                "properties": {"loc": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
"""The error shape as JSON Schema, for the services' OpenAPI documents."""


def error_response(
    view: View,
    status: int,
    code: str,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"error": code, "detail": detail, "errors": [e.model_dump() for e in errors]}
    response = view.json(body, status=status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
