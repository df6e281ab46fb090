"""The OpenAPI 3.1 document of triage's officer API, generated from the models its answers are made of."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from schemas.action import ActionKind, OfficerAction
from schemas.audit import AuditEvent
from schemas.decision import TriageDecision
from schemas.outcome import ReferralOutcome
from schemas.referral import Referral
from schemas.vocabulary import Service
from services.common.web_errors import ERROR_SCHEMA
from services.triage.cases.case import QueueItem
from services.triage.reports.kpis import KpiReport

REF = "#/components/schemas/{model}"

ITEM_FIELDS = (
    "referral_id",
    "service",
    "priority",
    "state",
    "due_at",
    "flags",
    "rule_ids",
    "reasons",
    "claimed_by",
    "ruleset_version",
    "replaces",
    "replaces_all",
    "final_reason",
    "withdrawn",
)
"""The fields of a queue item an officer is shown (the rest is triage's own bookkeeping)."""

ACTION_FIELDS = ("reason", "to")
"""The fields an officer sends with an action; the rest of the `OfficerAction` comes from the request."""


def _ref(model: str) -> dict[str, str]:
    return {"$ref": REF.format(model=model)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _json(_ref("Error"))}


UNAUTHORISED = _error("No or unknown officer (or, where a partner may call, partner) token")


def _model_schemas() -> dict[str, Any]:
    """Serialisation schemas of every model an answer is built from, and the officer's action body."""
    models: list[tuple[type[BaseModel], Any]] = [
        (QueueItem, "serialization"),
        (Referral, "serialization"),
        (TriageDecision, "serialization"),
        (AuditEvent, "serialization"),
        (KpiReport, "serialization"),
        (ReferralOutcome, "serialization"),
        (OfficerAction, "validation"),
    ]
    _, top = models_json_schema(models, ref_template=REF)
    schemas: dict[str, Any] = top["$defs"]
    item = schemas.pop("QueueItem")
    schemas["QueueItemView"] = {
        "type": "object",
        "title": "QueueItemView",
        "description": item.get("description", ""),
        "required": list(ITEM_FIELDS),
        "additionalProperties": False,
        "properties": {name: item["properties"][name] for name in ITEM_FIELDS},
    }
    action = schemas.pop("OfficerAction")
    schemas["ActionBody"] = {
        "type": "object",
        "title": "ActionBody",
        "additionalProperties": False,
        "description": "decline and close need a reason; reassign needs `to`, a service other than this one.",
        "properties": {name: action["properties"][name] for name in ACTION_FIELDS},
    }
    schemas["ActionResult"] = {
        "type": "object",
        "title": "ActionResult",
        "required": list(ITEM_FIELDS),
        "additionalProperties": False,
        "properties": {
            **schemas["QueueItemView"]["properties"],
            "follow_up_decision_id": {"type": "string"},
            "follow_up_services": {"type": "array", "items": _ref("Service")},
        },
    }
    schemas["QueueSummary"] = {
        "type": "object",
        "required": ["service", "open", "overdue"],
        "additionalProperties": False,
        "properties": {
            "service": _ref("Service"),
            "open": {"type": "integer", "minimum": 0},
            "overdue": {"type": "integer", "minimum": 0},
        },
    }
    schemas["ReferralView"] = {
        "type": "object",
        "required": ["referral", "decisions", "items", "audit"],
        "additionalProperties": False,
        "properties": {
            "referral": _ref("Referral"),
            "decisions": {"type": "array", "items": _ref("TriageDecision")},
            "items": {"type": "array", "items": _ref("QueueItemView")},
            "audit": {"type": "array", "items": _ref("AuditEvent")},
        },
    }
    outcome = schemas.pop("ReferralOutcome")
    shown = {name: value for name, value in outcome["properties"].items() if name != "partner_id"}
    schemas["OutcomeView"] = {
        "type": "object",
        "title": "OutcomeView",
        "description": "One change a referring partner is told of (docs/webhooks.md, outcome webhooks).",
        "required": [name for name in outcome.get("required", []) if name in shown],
        "additionalProperties": False,
        "properties": shown,
    }
    nullable_service = {"anyOf": [_ref("Service"), {"type": "null"}]}
    schemas["PartnerReferralView"] = {
        "type": "object",
        "title": "PartnerReferralView",
        "description": "A referral as its referring partner sees it: no officers, free text or personal data.",
        "required": ["referral_id", "received_at", "accepted_at", "state", "assignments", "outcomes"],
        "additionalProperties": False,
        "properties": {
            "referral_id": {"type": "string"},
            "received_at": {"type": "string", "format": "date-time"},
            "accepted_at": {"type": "string", "format": "date-time"},
            "state": {"type": "string", "enum": ["received", "triaged"]},
            "assignments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["service", "priority", "due_at", "state", "reason_code", "to", "updated_at"],
                    "additionalProperties": False,
                    "properties": {
                        "service": _ref("Service"),
                        "priority": _ref("Priority"),
                        "due_at": {"type": "string", "format": "date-time"},
                        "state": {
                            "type": "string",
                            "enum": ["new", "claimed", "accepted", "declined", "reassigned", "closed", "withdrawn"],
                        },
                        "reason_code": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                        "to": nullable_service,
                        "updated_at": {"type": "string", "format": "date-time"},
                    },
                },
            },
            "outcomes": {"type": "array", "items": _ref("OutcomeView")},
        },
    }
    schemas["OutcomeChanges"] = {
        "type": "object",
        "title": "OutcomeChanges",
        "required": ["changes", "cursor", "more"],
        "additionalProperties": False,
        "properties": {
            "changes": {"type": "array", "items": _ref("OutcomeView")},
            "cursor": {"type": "string", "description": "Opaque: send it back as updated_since for what follows."},
            "more": {"type": "boolean", "description": "True when this page is full: ask again at once."},
        },
    }
    schemas["Error"] = ERROR_SCHEMA
    return schemas


def _service_parameter() -> dict[str, Any]:
    return {"name": "service", "in": "path", "required": True, "schema": _ref("Service")}


def _referral_parameter() -> dict[str, Any]:
    return {
        "name": "referral_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 64},
    }


def _paths() -> dict[str, Any]:
    return {
        "/v1/queues": {
            "get": {
                "operationId": "listQueues",
                "summary": "Open and overdue counts of the caller's queues",
                "responses": {
                    "200": {
                        "description": "One row per service in the caller's scope",
                        "content": _json({"type": "array", "items": _ref("QueueSummary")}),
                    },
                    "401": UNAUTHORISED,
                },
            }
        },
        "/v1/queues/{service}": {
            "get": {
                "operationId": "listQueueItems",
                "summary": "A queue's items, by priority then due time",
                "parameters": [
                    _service_parameter(),
                    {
                        "name": "state",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["open", "all"], "default": "open"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The queue's items",
                        "content": _json({"type": "array", "items": _ref("QueueItemView")}),
                    },
                    "401": UNAUTHORISED,
                    "403": _error("The queue is outside the caller's scope"),
                    "404": _error("No such queue"),
                    "422": _error("state is not open or all"),
                },
            }
        },
        "/v1/referrals": {
            "get": {
                "operationId": "pollReferralOutcomes",
                "summary": "A referring partner's outcomes since a cursor, in order (partner token)",
                "parameters": [
                    {
                        "name": "updated_since",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 64},
                        "description": "The cursor of the previous answer; none to start from the first outcome.",
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The next outcomes and the cursor after them",
                        "content": _json(_ref("OutcomeChanges")),
                    },
                    "401": UNAUTHORISED,
                    "403": _error("An officer token: only a referring partner polls (partners_only)"),
                    "422": _error("updated_since is not a cursor this API gave (invalid_cursor)"),
                },
            }
        },
        "/v1/referrals/{referral_id}": {
            "get": {
                "operationId": "showReferral",
                "summary": (
                    "A referral: for an officer its decisions, queue items and audit trail (their services' parts); "
                    "for its referring partner its status and outcomes"
                ),
                "parameters": [_referral_parameter()],
                "responses": {
                    "200": {
                        "description": "The referral as the caller may see it",
                        "content": _json({"oneOf": [_ref("ReferralView"), _ref("PartnerReferralView")]}),
                    },
                    "401": UNAUTHORISED,
                    "403": _error("The referral is outside the officer's scope"),
                    "404": _error("No referral with this id (for a partner: none of its own)"),
                },
            }
        },
        "/v1/queues/{service}/items/{referral_id}/{action}": {
            "post": {
                "operationId": "actOnItem",
                "summary": "Claim, accept, decline, reassign or close a queue item",
                "parameters": [
                    _service_parameter(),
                    _referral_parameter(),
                    {
                        "name": "action",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": [kind.value for kind in ActionKind]},
                    },
                ],
                "requestBody": {"required": False, "content": _json(_ref("ActionBody"))},
                "responses": {
                    "200": {"description": "The item's new state", "content": _json(_ref("ActionResult"))},
                    "401": UNAUTHORISED,
                    "403": _error("The queue is outside the caller's scope"),
                    "404": _error("No such queue, action, referral or item"),
                    "409": _error("The item is final or claimed by another officer"),
                    "422": _error("The body is not valid, or the action needs a reason or a target"),
                    "504": _error("Recorded but not yet applied; refresh to see the result"),
                },
            }
        },
        "/v1/reports/kpis": {
            "get": {
                "operationId": "kpiReport",
                "summary": "The partnership's KPI report (managers only)",
                "parameters": [
                    {
                        "name": "from",
                        "in": "query",
                        "required": True,
                        "description": "ISO date or date-time",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "to",
                        "in": "query",
                        "required": True,
                        "description": "ISO date or date-time, later than from",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "format",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["json", "csv", "html"], "default": "json"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The report",
                        "content": {
                            "application/json": {"schema": _ref("KpiReport")},
                            "text/csv": {"schema": {"type": "string"}},
                            "text/html": {"schema": {"type": "string"}},
                        },
                    },
                    "401": UNAUTHORISED,
                    "403": _error("The caller is not a manager"),
                    "422": _error("The period or format is not valid"),
                },
            }
        },
        "/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "security": [],
                "responses": {"200": {"description": "This document", "content": {"application/json": {}}}},
            }
        },
        "/healthz": {
            "get": {
                "operationId": "health",
                "security": [],
                "responses": {"200": {"description": "Process up", "content": {"application/json": {}}}},
            }
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SoSafe Referral Router: triage",
            "version": "1",
            "description": "Duty officers work their services' queues; managers see every queue and the "
            f"KPI report. Services: {', '.join(s.value for s in Service)}.",
        },
        "components": {
            "schemas": _model_schemas(),
            "securitySchemes": {"officerToken": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"officerToken": []}],
        "paths": _paths(),
    }
