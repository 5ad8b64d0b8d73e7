"""Shared test wiring: generated keys, in-memory ports installed behind the real handlers, event
builders, and a guard that fails any attempt to reach a non-loopback address."""

import ipaddress
import secrets
import socket
from collections.abc import Iterator
from typing import Any

import pytest

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
