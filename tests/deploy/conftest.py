"""Fixtures of the deployment tests: docs/operations.md and the metric names it documents."""

from __future__ import annotations

import pytest

from tests.deploy.operations_doc import OPERATIONS_DOC, doc_metric_names


@pytest.fixture(scope="session")
def operations_doc() -> str:
    return OPERATIONS_DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def documented_metrics(operations_doc: str) -> set[str]:
    return doc_metric_names(operations_doc)
