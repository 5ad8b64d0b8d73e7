"""Fixtures of the hostile suite: generated keys, settings with rotation in progress, a local runtime in a
subprocess inside a sandbox folder of its own, and the tally of hostile cases printed after the run."""

from collections.abc import Iterator

import pytest
from hostile_support import ENDPOINTS, TALLY, HostileKeys
from runtime_support import RuntimeProcess, start_runtime

from agentic_memory.settings import Settings


@pytest.fixture(scope="session")
def hostile_keys() -> HostileKeys:
    return HostileKeys.generate()


@pytest.fixture(scope="session")
def open_settings(hostile_keys: HostileKeys, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Retrieve open (no tool key), as the original system was."""
    return hostile_keys.settings(tmp_path_factory.mktemp("hostile-open"), tool_key_required=False)


@pytest.fixture(scope="session")
def guarded_settings(hostile_keys: HostileKeys, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Retrieve requires ``X-Tool-Key``, as the prod stack configures it."""
    return hostile_keys.settings(tmp_path_factory.mktemp("hostile-guarded"), tool_key_required=True)


@pytest.fixture(scope="module")
def hostile_runtime(
    tmp_path_factory: pytest.TempPathFactory, hostile_keys: HostileKeys
) -> Iterator[RuntimeProcess]:
    running = start_runtime(tmp_path_factory.mktemp("hostile-runtime"), hostile_keys)
    yield running
    running.stop()


# ---------------------------------------------------------------------------------------------------
# The tally: how many hostile cases each endpoint saw, by status.


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY:
        return
    terminalreporter.section("hostile cases per endpoint, by status (0: no answer)")
    endpoints = list(ENDPOINTS) + sorted({e for e, _ in TALLY} - set(ENDPOINTS))
    for endpoint in endpoints:
        outcomes = sorted((status, count) for (e, status), count in TALLY.items() if e == endpoint)
        if outcomes:
            total = sum(count for _, count in outcomes)
            detail = ", ".join(f"{status}: {count}" for status, count in outcomes)
            terminalreporter.write_line(f"{endpoint:<28} {total:>6}  ({detail})")
