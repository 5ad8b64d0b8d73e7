"""Fixtures of the console tests: the seeded runtime (``console_support``) and one headless browser."""

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_support import AGENT_NUMBER, CHROMIUM, CHROMIUM_FLAGS, ConsoleRuntime, seed

from agentic_memory.settings import Settings
from devtools.fakes import InMemoryMemoryStore
from local_runtime.adapters.filesystem_archive import FilesystemArchive
from local_runtime.runtime import build_runtime


@pytest.fixture(scope="session")
def console_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleRuntime]:
    home: Path = tmp_path_factory.mktemp("console-home")
    keys = {"workspace": f"wsk_t_{secrets.token_hex(8)}", "hmac": f"whsec_t_{secrets.token_hex(8)}"}
    settings = Settings.from_environment(
        {
            "AGENTIC_MEMORY_HOME": str(home),
            "ELEVENLABS_WORKSPACE_KEY": keys["workspace"],
            "ELEVENLABS_HMAC_KEY": keys["hmac"],
            "AGENT_PHONE_NUMBERS": AGENT_NUMBER,
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    archive = FilesystemArchive(home / "archive")
    memory = InMemoryMemoryStore()
    console_key = f"csk_t_{secrets.token_hex(8)}"
    runtime = build_runtime(settings, "127.0.0.1", 0, memory=memory, archive=archive, console_key=console_key)
    runtime.start_in_background()
    running = ConsoleRuntime(runtime, runtime.url, console_key, keys, archive, memory)
    try:
        seed(running)
        yield running
    finally:
        runtime.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the whole run, driven by Playwright (never `playwright install`:
    the browser is the system's). Missing, it fails the tests by name rather than skipping them."""
    if not CHROMIUM.exists():
        pytest.fail(
            "the console's browser tests need Debian's chromium at /usr/bin/chromium: "
            "apt-get install -y chromium (.ci/run installs it)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the console's browser tests need playwright: make install-dev (the dev extra has it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield launched
        finally:
            launched.close()
