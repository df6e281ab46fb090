"""The OpenAPI 3.1 document of intake, generated from the submission model so the two never drift."""

from __future__ import annotations

from functools import cache
from typing import Any

from schemas.submission import MAX_BODY_BYTES, ReferralSubmission, RuleCode
from schemas.update import NewInformation, UpdateRuleCode, Withdrawal
from services.common.web_errors import ERROR_SCHEMA

REF = "#/components/schemas/{model}"


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
    }


def _update_path(kind: str, model: str, summary: str) -> dict[str, Any]:
    return {
        "post": {
            "operationId": "addInformation" if kind == "updates" else "withdrawReferral",
            "summary": summary,
            "parameters": [
                {"name": "referral_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": REF.format(model=model)}}},
            },
            "responses": {
                "202": {
                    "description": "Recorded for triage",
                    "content": {"application/json": {"schema": {"$ref": REF.format(model="UpdateReceipt")}}},
                },
                "401": _error("No or unknown partner token"),
                "404": _error("Not a referral intake received from your organisation"),
                "408": _error("The body did not arrive in time"),
                "413": _error("Body over the size limit"),
                "415": _error("Body is not JSON"),
                "422": _error(
                    "Invalid body; `errors` name each field and rule, never the value. Codes beside JSON Schema's: "
                    + ", ".join(f"`{code}`" for code in UpdateRuleCode)
                ),
                "429": _error("Over the partner's rate limit"),
                "503": _error("The broker did not record the update in time; send it again later"),
            },
        }
    }


@cache
def openapi_document() -> dict[str, Any]:
    submission = ReferralSubmission.model_json_schema(ref_template=REF)
    components: dict[str, Any] = dict(submission.pop("$defs", {}))
    components["ReferralSubmission"] = submission
    for model in (NewInformation, Withdrawal):
        schema = model.model_json_schema(ref_template=REF)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    components["Error"] = ERROR_SCHEMA
    components["UpdateReceipt"] = {
        "type": "object",
        "required": ["referral_id", "update_id", "status"],
        "properties": {
            "referral_id": {"type": "string", "format": "uuid"},
            "update_id": {"type": "string"},
            "status": {"type": "string", "enum": ["received"]},
        },
    }
    components["SubmissionReceipt"] = {
        "type": "object",
        "required": ["referral_id", "status"],
        "properties": {
            "referral_id": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": ["accepted", "duplicate"]},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SoSafe Referral Router: intake",
            "version": "1",
            "description": "Partners submit referrals about people at risk. "
            f"Bodies are JSON of at most {MAX_BODY_BYTES} bytes.",
        },
        "components": {
            "schemas": components,
            "securitySchemes": {"partnerToken": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"partnerToken": []}],
        "paths": {
            "/v1/referrals": {
                "post": {
                    "operationId": "submitReferral",
                    "summary": "Submit a referral (submission v1)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": REF.format(model="ReferralSubmission")}}},
                    },
                    "responses": {
                        "202": {
                            "description": "Accepted for triage, or a duplicate of a known referral",
                            "content": {
                                "application/json": {"schema": {"$ref": REF.format(model="SubmissionReceipt")}}
                            },
                        },
                        "401": _error("No or unknown partner token"),
                        "403": _error("The token's partner is not the referral's source"),
                        "408": _error("The body did not arrive in time"),
                        "413": _error("Body over the size limit"),
                        "415": _error("Body is not JSON"),
                        "422": _error(
                            "Invalid referral; `errors` name each field and rule. Beside the JSON "
                            "Schema's own rules, the codes of rules it cannot express: "
                            + ", ".join(f"`{code}`" for code in RuleCode)
                            + " (each field's description says which apply to it)"
                        ),
                        "429": _error("Over the partner's rate limit"),
                        "503": {
                            **_error(
                                "The broker did not record the referral in time. Send it again after "
                                "Retry-After seconds: a referral that arrives twice is triaged once"
                            ),
                            "headers": {
                                "Retry-After": {
                                    "description": "Seconds to wait before sending again",
                                    "schema": {"type": "integer", "minimum": 1},
                                }
                            },
                        },
                    },
                }
            },
            **{
                f"/v1/referrals/{{referral_id}}/{kind}": _update_path(kind, model, summary)
                for kind, model, summary in (
                    ("updates", "NewInformation", "Add new information to a referral you sent"),
                    ("withdraw", "Withdrawal", "Withdraw a referral you sent"),
                )
            },
            "/v1/schema": {
                "get": {
                    "operationId": "submissionSchema",
                    "security": [],
                    "responses": {
                        "200": {"description": "JSON Schema of a submission", "content": {"application/json": {}}}
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "security": [],
                    "responses": {"200": {"description": "Process up", "content": {"application/json": {}}}},
                }
            },
        },
    }
