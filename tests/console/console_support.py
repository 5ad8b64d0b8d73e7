"""Shared by the console tests: a local runtime in this process with the console on, seeded through its
own webhooks: two calls of Margaret (+15550100142) with the first call's audio, and two more callers,
so every console page has something real to show. The memory is the in-memory fake (no embedding
model to load); the archive is the filesystem one the runtime uses by default."""

import json
import os
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentic_memory import archive_keys
from devtools.fakes import InMemoryMemoryStore
from local_runtime import sender
from local_runtime.adapters.filesystem_archive import FilesystemArchive
from local_runtime.runtime import LocalRuntime

MARGARET = "+15550100142"
SECOND_CALLER = "+15550100199"
# Forgotten by the browser test.
THIRD_CALLER = "+15550100177"
AGENT_NUMBER = "+15550100001"


@dataclass
class ConsoleRuntime:
    runtime: LocalRuntime
    url: str
    console_key: str
    keys: dict[str, str]
    archive: FilesystemArchive
    memory: InMemoryMemoryStore

    def send(self, fixture: str, caller: str | None = None, conversation_id: str | None = None) -> Any:
        payload = sender.load_payload(fixture)
        old = sender._caller_in(payload)
        payload = (
            sender.rewrite(payload, caller, conversation_id, old) if caller or conversation_id else payload
        )
        return self.send_payload(payload)

    def send_payload(self, payload: Any) -> Any:
        keys: dict[str, str | None] = {"hmac": self.keys["hmac"], "workspace": self.keys["workspace"]}
        request = sender.build_request(payload, sender.route_of(payload), self.url, keys)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")


def wait_for(check: Any, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen")
        time.sleep(0.05)


def seed(running: ConsoleRuntime) -> None:
    running.send("transcription_twilio_inbound")
    running.send("audio")
    running.send("transcription_returning_caller")
    running.send("transcription_twilio_inbound", caller=SECOND_CALLER, conversation_id="conv_second0001")
    running.send("transcription_twilio_inbound", caller=THIRD_CALLER, conversation_id="conv_third00001")
    audio = archive_keys.audio_key("agent_2401kn076can47sp0fftkzytzrjx", "conv_6801khe5t8577ext65zsntr4mfdw")

    def seeded() -> bool:
        margaret = archive_keys.profile_key(MARGARET)
        return (
            running.archive.exists(audio)
            and running.archive.exists(archive_keys.profile_key(SECOND_CALLER))
            and running.archive.exists(archive_keys.profile_key(THIRD_CALLER))
            and running.archive.exists(margaret)
            and b'"call_count":2' in running.archive.get(margaret)
        )

    wait_for(seeded, "processing the seeded calls")


CHROMIUM = Path("/usr/bin/chromium")
# As this machine's notes give them: without the background-networking flags Chromium keeps trying to
# reach Google's hosts, which a closed network refuses.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


SCREENSHOTS = os.environ.get("CONSOLE_SCREENSHOTS")


def shot(page: Any, name: str) -> None:
    """With CONSOLE_SCREENSHOTS=<folder>, the page saved there as a PNG (docs/console/ holds them)."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def row_of(page: Any, caller: str) -> Any:
    """The callers list's row of ``caller`` (its number is shown formatted; the row names it as stored)."""
    return page.locator(f"tr[data-caller='{caller}']")


def listed(page: Any) -> list[str]:
    """The callers in the list, in the order shown."""
    return [
        str(caller)
        for caller in page.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.caller)")
    ]
