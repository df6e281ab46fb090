"""pytest plugin for `make mutation` only: give each test item the `_nodeid` that mutmut 3.7 reads.

pytest 9 keeps a node's id in `_id` (read through `nodeid`); mutmut 3.7 still reads the old private
`_nodeid`. mutmut 3.8 reads `nodeid`, but needs click>=8.4, which faust-streaming 0.15.3 refuses.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item._nodeid = item.nodeid  # type: ignore[attr-defined]
