"""Shared test wiring: generated keys, in-memory ports installed behind the real handlers, event
builders, a guard that fails any attempt to reach a non-loopback address, and the hostile suites' keys,
settings and tally (``hostile_support.py``), which the hostile tests of every capability share."""

import ipaddress
import secrets
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hostile_support import ENDPOINTS, TALLY, HostileKeys

from agentic_memory.settings import Settings
from agentic_memory.wiring import Dependencies, use_dependencies
from devtools.fakes import InMemoryArchive, InMemoryMemoryStore

_real_connect = socket.socket.connect


def _loopback_only(sock: socket.socket, address: Any) -> Any:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ConnectionRefusedError(f"tests may not leave the machine (tried {host})")
    return _real_connect(sock, address)


@pytest.fixture(autouse=True)
def no_traffic_off_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(autouse=True)
def quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


@pytest.fixture
def keys() -> dict[str, str]:
    return {
        "workspace": f"wsk_test_{secrets.token_hex(16)}",
        "hmac": f"whsec_test_{secrets.token_hex(16)}",
        "tool": f"tool_test_{secrets.token_hex(16)}",
    }


@pytest.fixture
def settings(keys: dict[str, str], tmp_path: Any) -> Settings:
    return Settings.from_environment(
        {
            "ELEVENLABS_WORKSPACE_KEY": keys["workspace"],
            "ELEVENLABS_HMAC_KEY": keys["hmac"],
            "AGENTIC_MEMORY_HOME": str(tmp_path / "home"),
            "AGENT_PHONE_NUMBERS": "+15550100001",
        }
    )


@pytest.fixture
def deps(settings: Settings) -> Iterator[Dependencies]:
    dependencies = Dependencies(settings=settings, memory=InMemoryMemoryStore(), archive=InMemoryArchive())
    use_dependencies(dependencies)
    yield dependencies
    use_dependencies(None)


# ---------------------------------------------------------------------------------------------------
# The hostile suites: generated keys and settings with rotation in progress, shared by the hostile tests
# of each capability, and the tally of hostile cases printed once after the run.


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
