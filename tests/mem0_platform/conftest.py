"""Fixtures for the Mem0 Platform client: the emulator on loopback, a generated key, a store pointed at it.

Every test talks over real HTTP to ``devtools.mem0_emulator``; nothing reaches
api.mem0.ai (the root conftest refuses non-loopback connections).
"""

import secrets
from collections.abc import Iterator

import pytest

from agentic_memory.adapters.mem0_platform import Mem0PlatformStore
from devtools.mem0_emulator import Mem0Emulator, start_emulator


@pytest.fixture
def api_key() -> str:
    return f"m0-test-{secrets.token_hex(16)}"


@pytest.fixture
def emulator(api_key: str) -> Iterator[Mem0Emulator]:
    running = start_emulator(api_keys=[api_key], profile="none")
    yield running
    running.stop()


@pytest.fixture
def store(emulator: Mem0Emulator, api_key: str) -> Iterator[Mem0PlatformStore]:
    client = Mem0PlatformStore(api_key, emulator.url, read_timeout=2.0, write_timeout=5.0)
    yield client
    client.close()
