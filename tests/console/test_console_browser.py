"""The console in a real browser (headless Debian Chromium through Playwright), against the runtime on
loopback: sign in, list and search callers, open a caller, search their memories, play a call's audio,
correct a name, delete a memory and forget a caller, each checked afterwards through the runtime's
own API (the pre-call and the search_memory tool) as ElevenLabs would see it.

With CONSOLE_SCREENSHOTS=<folder> each page is also saved there as a PNG (docs/console/ holds them).
"""

import io
import json
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_support import (
    MARGARET,
    SECOND_CALLER,
    THIRD_CALLER,
    ConsoleRuntime,
    listed,
    row_of,
    shot,
    wait_for,
)
from mutagen.mp3 import MP3

from agentic_memory import archive_keys
from local_runtime import operator_commands

FOURTH_CALLER = "+15550100166"
KEPT_CALL, REMOVED_CALL = "conv_fourth0001", "conv_fourth0002"


@pytest.fixture(scope="module")
def page(browser: Any, console_runtime: ConsoleRuntime) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


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
    # Then the callers are listed by name and number, with their calls and agents by name
    page.wait_for_url("**/console")
    row = row_of(page, MARGARET)
    assert row.locator(".caller-name").inner_text() == "Margaret"
    assert row.locator(".number").inner_text() == "+1 555-010-0142"
    assert "\t2\t" in row.inner_text() and "Riverside Vets assistant" in row.inner_text()
    assert row_of(page, SECOND_CALLER).count() == 1
    shot(page, "callers")
    # And a search narrows the list, by a part of a number or the number in any common format
    for typed in ("0199", "(555) 010-0199", "+1 555-010-0199", "555.010.0199", "555 010 0199"):
        page.fill("input[name=q]", typed)
        page.click("form[role=search] button")
        assert listed(page) == [SECOND_CALLER], typed


def test_a_caller_page_search_and_audio(page: Any, console_runtime: ConsoleRuntime) -> None:
    page.goto(console_runtime.url + "/console")
    row_of(page, MARGARET).locator("a.caller-name").click()
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
    # Then the next pre-call greets the caller by it, and no variable says the former name
    answer = console_runtime.send("precall_twilio_inbound", caller=MARGARET)
    assert answer["dynamic_variables"]["caller_name"] == "Maggie"
    assert "Maggie" in answer["conversation_config_override"]["agent"]["first_message"]
    assert "Maggie reported" in answer["dynamic_variables"]["memory_summary"]
    assert "Maggie called to book" in answer["dynamic_variables"]["memory_context"]
    assert "Margaret" not in json.dumps(answer)
    # And neither do the console's own panel nor the search_memory tool's answer
    assert "Margaret" not in page.locator("section:has(h2:text('What the agent will hear'))").inner_text()
    said = retrieve(console_runtime, "what is my name, Margaret or Maggie?")
    assert said and not any("Margaret" in text for text in said) and any("Maggie" in text for text in said)
    # When the operator opens one memory and cancels, nothing is deleted
    before = console_runtime.memory.list_all(MARGARET)
    page.locator("ul.memories a").first.click()
    assert page.locator(".memory-text").inner_text() == before[0].text
    shot(page, "memory")
    page.click(".danger-zone >> text=Cancel")
    assert [m.id for m in console_runtime.memory.list_all(MARGARET)] == [m.id for m in before]
    # When the operator confirms the delete
    page.locator("ul.memories a").first.click()
    page.click("text=Delete for good")
    assert page.locator(".notice").inner_text() == "Memory deleted."
    after = console_runtime.memory.list_all(MARGARET)
    assert [m.id for m in after] == [m.id for m in before[1:]]
    # (a call's factual memory stands for its summary: deleted, the brief no longer tells it)
    deleted = console_runtime.send("precall_twilio_inbound", caller=MARGARET)
    assert deleted["dynamic_variables"]["caller_name"] == "Maggie"
    # Then a replay and a rebuild of the caller change nothing: the name and the deletion hold
    operator(console_runtime, "replay", "--caller", MARGARET)
    operator(console_runtime, "profiles", "rebuild", "--caller", MARGARET)
    assert [m.text for m in console_runtime.memory.list_all(MARGARET)] == [m.text for m in after]
    again = console_runtime.send("precall_twilio_inbound", caller=MARGARET)
    assert again["dynamic_variables"] == deleted["dynamic_variables"]


def test_edit_a_memory(page: Any, console_runtime: ConsoleRuntime) -> None:
    page.goto(console_runtime.url + f"/console/callers/{SECOND_CALLER.replace('+', '%2B')}")
    page.locator("ul.memories a").first.click()
    page.fill("textarea[name=text]", "Prefers to be called in the morning.")
    page.click("text=Save memory")
    assert page.locator(".notice").inner_text() == "Memory changed."
    assert "Prefers to be called in the morning." in page.locator("ul.memories").inner_text()
    operator(console_runtime, "replay", "--caller", SECOND_CALLER)
    texts = [m.text for m in console_runtime.memory.list_all(SECOND_CALLER)]
    assert texts.count("Prefers to be called in the morning.") == 1


def test_remove_a_call(page: Any, console_runtime: ConsoleRuntime) -> None:
    # Given a caller with two calls
    for conversation in (KEPT_CALL, REMOVED_CALL):
        console_runtime.send(
            "transcription_twilio_inbound", caller=FOURTH_CALLER, conversation_id=conversation
        )
    brief = archive_keys.profile_key(FOURTH_CALLER)
    archive = console_runtime.archive
    wait_for(
        lambda: archive.exists(brief) and b'"call_count":2' in archive.get(brief), "two calls in the brief"
    )
    page.goto(console_runtime.url + f"/console/callers/{FOURTH_CALLER.replace('+', '%2B')}")
    # When the operator removes one, confirming on the page that lists what goes
    page.click(f"[aria-label='Remove call {REMOVED_CALL}']")
    assert archive_keys.transcription_key(FOURTH_CALLER, REMOVED_CALL) in page.locator("ul.keys").inner_text()
    shot(page, "remove-call")
    page.click("text=Remove this call")
    assert page.locator(".notice").inner_text().startswith(f"Call {REMOVED_CALL} removed")
    # Then its event and memories are gone, the brief counts one call, and a replay brings nothing back
    assert not console_runtime.archive.exists(archive_keys.transcription_key(FOURTH_CALLER, REMOVED_CALL))
    operator(console_runtime, "replay", "--caller", FOURTH_CALLER)
    conversations = {
        m.metadata.get("conversation_id") for m in console_runtime.memory.list_all(FOURTH_CALLER)
    }
    assert conversations == {KEPT_CALL}
    answer = console_runtime.send("precall_twilio_inbound", caller=FOURTH_CALLER)
    assert answer["dynamic_variables"]["memory_count"] == "1"
    assert page.locator("article.call").count() == 1
    assert REMOVED_CALL not in page.locator("article.call").inner_text()


def test_export_a_caller(page: Any, console_runtime: ConsoleRuntime, tmp_path: Path) -> None:
    page.goto(console_runtime.url + f"/console/callers/{MARGARET.replace('+', '%2B')}")
    with page.expect_download() as started:
        page.click("text=Download everything (.zip)")
    download = started.value
    assert download.suggested_filename == "agentic-memory-15550100142.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as bundle:
        names = bundle.namelist()
        assert {"README.txt", "brief.json", "memories.txt", "memories.json", "corrections.json"} <= set(names)
        transcripts = [bundle.read(n).decode() for n in names if n.endswith("/transcript.txt")]
        assert len(transcripts) == 2 and all("Transcript:" in t for t in transcripts)
        assert MP3(io.BytesIO(bundle.read(next(n for n in names if n.endswith(".mp3"))))).info.length > 0
        assert json.loads(bundle.read("corrections.json"))["entries"][0]["by"] == "console"


def retrieve(console_runtime: ConsoleRuntime, query: str) -> list[str]:
    body = json.dumps({"query": query, "user_id": MARGARET}).encode()
    request = urllib.request.Request(
        console_runtime.url + "/retrieve", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return list(json.loads(response.read())["memories"])


def operator(console_runtime: ConsoleRuntime, *argv: str) -> None:
    """An operator command on the runtime's own data and store, as its admin API runs it."""
    deps = console_runtime.runtime.dependencies
    assert operator_commands.run(operator_commands.parse(list(argv)), deps) == 0


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
