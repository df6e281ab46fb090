"""The deployment files' paths, and what docs/operations.md documents: its anchors and metric names."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OPERATIONS_DOC = REPO / "docs" / "operations.md"
SOSAFE_SERVICES = ("intake", "triage", "notify")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def heading_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def doc_anchors(markdown: str) -> set[str]:
    return {heading_anchor(match) for match in re.findall(r"^#{1,6}\s+(.+)$", markdown, flags=re.MULTILINE)}


def doc_metric_names(markdown: str) -> set[str]:
    """Metric names written in backticks in the doc, with `<service>` expanded to each SoSafe service."""
    names: set[str] = set()
    for token in re.findall(r"`(sosafe_[a-z0-9_<>]+|up)`", markdown):
        if "<service>" in token:
            names.update(token.replace("<service>", service) for service in SOSAFE_SERVICES)
        else:
            names.add(token)
    return names


def metric_names_in_query(expr: str) -> set[str]:
    """Metric names a PromQL query reads: `sosafe_*` identifiers and `up`, quoted label values ignored."""
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    identifiers = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", unquoted))
    return {name for name in identifiers if name.startswith("sosafe_") or name == "up"}


def is_documented(metric: str, documented: set[str]) -> bool:
    if metric in documented:
        return True
    return any(metric.endswith(suffix) and metric.removesuffix(suffix) in documented for suffix in HISTOGRAM_SUFFIXES)
