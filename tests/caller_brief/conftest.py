"""Fixtures of the caller brief tests."""

from collections.abc import Iterator

import pytest

from agentic_memory.wiring import Dependencies, use_dependencies


@pytest.fixture
def installed() -> Iterator[list[Dependencies]]:
    """The dependencies a test installs (``install``), uninstalled after it."""
    holder: list[Dependencies] = []
    yield holder
    use_dependencies(None)
