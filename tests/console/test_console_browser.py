"""The console in a real browser (headless Debian Chromium through Playwright), against the runtime on
loopback: sign in, list and search callers, open a caller, search their memories, play a call's audio,
correct a name, delete a memory and forget a caller, each checked afterwards through the runtime's
own API (the pre-call and the search_memory tool) as ElevenLabs would see it.

With CONSOLE_SCREENSHOTS=<folder> each page is also saved there as a PNG (docs/console/ holds them).
"""

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_support import MARGARET, SECOND_CALLER, THIRD_CALLER, ConsoleRuntime
from mutagen.mp3 import MP3

from agentic_memory import archive_keys

SCREENSHOTS = os.environ.get("CONSOLE_SCREENSHOTS")


@pytest.fixture(scope="module")
def page(browser: Any, console_runtime: ConsoleRuntime) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_sign_in_and_list_callers(page: Any, console_runtime: ConsoleRuntime) -> None:
    # Given a browser without the session cookie
    page.goto(console_runtime.url + "/console")
    # Then it is sent to the login form, which refuses a wrong key
    assert page.url.endswith("/console/login")
    shot(page, "login")
    page.fill("input[name=key]", "wrong")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "That is not the console key."
    # When the operator signs in with the console key
    page.fill("input[name=key]", console_runtime.console_key)
    page.click("button[type=submit]")
    # Then the callers are listed with their name, calls and agents
    page.wait_for_url("**/console")
    row = page.locator("tr", has_text=MARGARET)
    assert "Margaret" in row.inner_text() and "\t2\t" in row.inner_text()
    assert page.locator("tr", has_text=SECOND_CALLER).count() == 1
    shot(page, "callers")
    # And a search narrows the list
    page.fill("input[name=q]", "0199")
    page.click("form[role=search] button")
    assert page.locator("tbody tr").count() == 1
    assert SECOND_CALLER in page.locator("tbody tr").inner_text()


def test_a_caller_page_search_and_audio(page: Any, console_runtime: ConsoleRuntime) -> None:
    page.goto(console_runtime.url + "/console")
    page.click(f"text={MARGARET}")
    assert page.locator("h1").inner_text().startswith("Margaret")
    assert "Welcome back, Margaret" in page.locator(".first-message").inner_text()
    # When the operator searches the caller's memories
    page.fill('input[aria-label="Search this caller\'s memories"]', "vaccination certificate")
    page.click("section:has(h2:text('Search memories')) button")
    results = page.locator("#search-results li")
    assert "vaccination" in results.first.inner_text().lower()
    shot(page, "caller")
    # And the audio element's source serves the archived MP3
    source = page.locator("audio").first.get_attribute("src")
    answer = page.request.get(console_runtime.url + source)
    assert answer.status == 200 and answer.headers["content-type"] == "audio/mpeg"
    assert MP3(io.BytesIO(answer.body())).info.length > 0
    duration = page.locator("audio").first.evaluate(
        """audio => new Promise(done => {
            audio.addEventListener('loadedmetadata', () => done(audio.duration), {once: true});
            audio.addEventListener('error', () => done(-1), {once: true});
            audio.preload = 'metadata'; audio.load();
        })"""
    )
    assert duration > 0


def test_correct_a_name_and_delete_a_memory(page: Any, console_runtime: ConsoleRuntime) -> None:
    page.goto(console_runtime.url + f"/console/callers/{MARGARET.replace('+', '%2B')}")
    # When the operator corrects the name
    page.fill("input[name=name]", "Maggie")
    page.click("text=Save name")
    assert page.locator(".notice").inner_text() == "Name corrected."
    # Then the next pre-call greets the caller by it
    answer = console_runtime.send("precall_twilio_inbound", caller=MARGARET)
    assert answer["dynamic_variables"]["caller_name"] == "Maggie"
    assert "Maggie" in answer["conversation_config_override"]["agent"]["first_message"]
    # When the operator deletes one memory
    before = console_runtime.memory.list_all(MARGARET)
    page.locator("ul.memories button").first.click()
    assert page.locator(".notice").inner_text() == "Memory deleted."
    after = console_runtime.memory.list_all(MARGARET)
    assert [m.id for m in after] == [m.id for m in before[1:]]


def test_forget_a_caller(page: Any, console_runtime: ConsoleRuntime) -> None:
    page.goto(console_runtime.url + f"/console/callers/{THIRD_CALLER.replace('+', '%2B')}")
    page.click("text=Forget…")
    shot(page, "forget")
    # A wrong confirmation erases nothing
    page.fill("input[name=confirm]", "+1")
    page.click("button.danger")
    assert "nothing was erased" in page.locator("[role=alert]").inner_text()
    assert console_runtime.archive.exists(archive_keys.profile_key(THIRD_CALLER))
    # When the operator confirms with the caller's number
    page.fill("input[name=confirm]", THIRD_CALLER)
    page.click("button.danger")
    assert page.locator(".notice").inner_text().startswith(f"Forgotten: {THIRD_CALLER}")
    # Then through the API: the search finds nothing, the pre-call no longer knows them
    found = console_runtime.send("tool_search_post", caller=THIRD_CALLER)
    assert not found.get("memories")
    answer = console_runtime.send("precall_twilio_inbound", caller=THIRD_CALLER)
    assert answer["dynamic_variables"]["returning_caller"] == "no"
    assert not console_runtime.archive.exists(archive_keys.profile_key(THIRD_CALLER))
    assert console_runtime.memory.list_all(THIRD_CALLER) == []
