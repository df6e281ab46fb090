"""Fuzzing a running service from its OpenAPI document with schemathesis, drawn with hypothesis in-process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, is_check_class
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
"""Statuses that rightly refuse invalid data: schemathesis's list, less 5xx, plus 413 (a body over the limit)."""

CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}})
"""For loading a document to validate real answers against (413 counts as a rejection)."""

ALL_CHECKS = [check for check in CHECKS.get_all() if not is_check_class(check)]
"""Every built-in check: the in-process equivalent of `schemathesis run --checks all`."""

PROFILE = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
"""Bounded, so a whole fuzz run stays within seconds per operation."""


def operations(document: dict[str, Any]) -> list[tuple[str, str, GenerationMode]]:
    """Every documented operation with valid data, and each one that takes a body or parameters with
    invalid data too."""
    cases = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            cases.append((path, method, GenerationMode.POSITIVE))
            if "requestBody" in operation or operation.get("parameters"):
                cases.append((path, method, GenerationMode.NEGATIVE))
    return cases


def case_id(case: tuple[str, str, GenerationMode]) -> str:
    path, method, mode = case
    return f"{method.upper()} {path} {mode.value}"


def fuzz(
    base_url: str,
    path: str,
    method: str,
    mode: GenerationMode,
    token: str,
    *,
    accepted: list[str] | None = None,
    prepare: Callable[[schemathesis.Case], schemathesis.Case] | None = None,
) -> None:
    """Generated requests get no 5xx, and every status, content type, header and body is as documented.

    With `accepted` (the statuses valid data may get) every check runs, `positive_data_acceptance`
    included; without it that check is left out, for APIs where JSON Schema cannot say that an id must
    exist or that the caller's scope must hold the queue, so schema-valid data may rightly get 403, 404 or
    422. `prepare` adjusts each generated case before it is sent.
    """
    checks: dict[str, Any] = {"negative_data_rejection": {"expected-statuses": REJECTIONS}}
    if accepted is not None:
        checks["positive_data_acceptance"] = {"expected-statuses": accepted}
    config = SchemathesisConfig.from_dict({"checks": checks})
    schema = schemathesis.openapi.from_url(base_url + "/v1/openapi.json", config=config, timeout=10)
    operation = schema[path][method.upper()]
    strategy = operation.as_strategy(generation_mode=mode)
    if prepare is not None:
        strategy = strategy.map(prepare)
    headers = {"Authorization": f"Bearer {token}"}

    @PROFILE
    @given(case=strategy)
    def call_and_validate(case: schemathesis.Case) -> None:
        if accepted is not None:
            case.call_and_validate(headers=headers, checks=ALL_CHECKS, timeout=10)
        else:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance], timeout=10)

    call_and_validate()
