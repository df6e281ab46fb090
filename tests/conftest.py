"""Fixtures shared by every test: the whole system on the real embedded broker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from services.cli.stack import Stack


@pytest.fixture
def stack_factory(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """Start a Stack (broker, topics, services as processes) in tmp_path; everything stops afterwards."""
    started: list[Stack] = []

    def start(services: tuple[str, ...] = ("intake",), partitions: int = 2, **kwargs: object) -> Stack:
        stack = Stack(workdir=tmp_path / f"stack{len(started)}", services=services, partitions=partitions,
                      **kwargs)  # type: ignore[arg-type]
        started.append(stack)
        stack.start()
        return stack

    yield start
    for stack in started:
        stack.stop()
