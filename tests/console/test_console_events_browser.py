"""The console for the people who use it, in headless Chromium against the runtime on loopback: callers
by last call, name or number of calls; every kind of event shown and found (a pre-call without a
transcript, a transcription that names nobody, an initiation failure, a dead letter), so that "Nothing
is kept" is said only when nothing is; a number typed in any common format; calls dated by their
start; sign-out that ends the session on the server, and a session that expires."""

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from console_support import MARGARET, SECOND_CALLER, ConsoleRuntime, listed, row_of, shot, wait_for

from agentic_memory import archive_keys
from local_runtime import dead_letter, sender
from local_runtime.console import formatting
from local_runtime.console.access import COOKIE, SessionPolicy
from local_runtime.console.routes import console_routes
from local_runtime.server import LocalRuntimeServer

PRE_CALL_ONLY = "+15550100133"
# Their pre-call named them; their transcription names nobody (the number was withheld by then).
HIDDEN_CALLER = "+15550100122"
HIDDEN_CALL = "conv_hidden0001"
# Only a failed outbound call: initiation_failure_sip dials +15550100155.
FAILED_CALLER = "+15550100155"
NOBODY = "+15550100111"
RETURNING_CALL_STARTED = 1764688930  # transcription_returning_caller's start_time_unix_secs


@pytest.fixture(scope="module")
def seeded(console_runtime: ConsoleRuntime) -> Iterator[ConsoleRuntime]:
    running = console_runtime
    precall = sender.load_payload("precall_twilio_inbound")
    running.send_payload(
        {**precall, "caller_id": PRE_CALL_ONLY, "call_sid": "CApreonly0001", "conversation_id": "conv_p1"}
    )
    running.send_payload(
        {**precall, "caller_id": HIDDEN_CALLER, "call_sid": "CAhidden0001", "conversation_id": HIDDEN_CALL}
    )
    text = json.dumps(sender.load_payload("transcription_twilio_inbound"))
    original = sender.load_payload("transcription_twilio_inbound")["data"]
    text = (
        text.replace(MARGARET, "anonymous")
        .replace(original["conversation_id"], HIDDEN_CALL)
        .replace(original["metadata"]["phone_call"]["call_sid"], "CAhidden0001")
    )
    running.send_payload(json.loads(text))
    running.send("initiation_failure_sip")
    archive = running.archive
    unattributed = archive_keys.unattributed_transcription_key(HIDDEN_CALL)
    wait_for(lambda: archive.exists(unattributed), "the unattributed transcription archived")
    # Processing gave up on the second caller's call: its record in the local dead-letter folder
    folder = running.runtime.dependencies.settings.home / "dead-letter"
    parked = archive_keys.transcription_key(SECOND_CALLER, "conv_second0001")
    dead_letter.park(folder, parked, 5, "processing failed on every attempt")
    try:
        yield running
    finally:
        dead_letter.release(folder, parked)


@pytest.fixture(scope="module")
def page(browser: Any, seeded: ConsoleRuntime) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    sign_in(opened, seeded.url, seeded.console_key)
    yield opened
    context.close()


def sign_in(page: Any, url: str, key: str) -> None:
    page.goto(url + "/console")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_url("**/console")


def rows(page: Any) -> list[dict[str, str]]:
    return list(page.locator("tbody tr").evaluate_all("rows => rows.map(r => ({...r.dataset}))"))


def test_callers_are_sorted_by_last_call_name_or_calls(page: Any, seeded: ConsoleRuntime) -> None:
    # Given the callers list as it opens
    page.goto(seeded.url + "/console")
    # Then it is by last call, newest first: a caller known only from a pre-call today leads
    shown = rows(page)
    lasts = [row["last"] for row in shown if row["last"]]
    assert lasts == sorted(lasts, reverse=True) and shown[0]["caller"] in (PRE_CALL_ONLY, HIDDEN_CALLER)
    assert listed(page).index(MARGARET) < listed(page).index(SECOND_CALLER)
    assert "no brief yet" in row_of(page, PRE_CALL_ONLY).inner_text()
    # When the operator sorts by name: A to Z, the callers whose name is not known last
    page.click("th >> text=Caller")
    names = [row["name"] for row in rows(page)]
    known = [name for name in names if name]
    assert known == sorted(known, key=str.casefold) and names == known + [""] * (len(names) - len(known))
    # When by number of calls: most first
    page.click("th >> text=Calls")
    calls = [int(row["calls"]) for row in rows(page)]
    assert calls == sorted(calls, reverse=True) and calls[0] >= 2
    shot(page, "callers-by-calls")


def test_every_kind_of_event_is_shown_and_searchable(page: Any, seeded: ConsoleRuntime) -> None:
    page.goto(seeded.url + "/console/events")
    events = page.locator("table.events")
    # A pre-call that left no transcript, with its caller
    pre_call = events.locator("tr[data-kind='pre-call']", has_text="+1 555-010-0133")
    assert pre_call.count() == 1
    # A transcription that names nobody
    nobody = events.locator("tr[data-kind='unattributed']", has_text=HIDDEN_CALL)
    assert "nobody named" in nobody.inner_text()
    # An outbound call that never connected, under the number it dialled, and a dead letter
    failure = events.locator("tr[data-kind='initiation failure']")
    assert "+1 555-010-0155" in failure.inner_text() and "no-answer" in failure.inner_text()
    assert "dead-lettered" in events.locator("tr", has_text="conv_second0001").inner_text()
    shot(page, "events")
    # When the operator narrows to dead letters, then searches a number typed as people write it
    page.select_option("select[name=kind]", "dead-lettered")
    page.click("form[role=search] button")
    assert page.locator("table.events tbody tr").count() == 1
    page.select_option("select[name=kind]", "")
    page.fill("input[name=q]", "(555) 010-0155")
    page.click("form[role=search] button")
    assert [r.get_attribute("data-kind") for r in page.locator("table.events tbody tr").all()] == [
        "initiation failure"
    ]


def test_a_callers_page_shows_what_is_kept_beyond_their_calls(page: Any, seeded: ConsoleRuntime) -> None:
    # The caller whose transcription named nobody: it is theirs (same call sid), and answers the pre-call
    page.goto(seeded.url + "/console/callers/(555)%20010-0122")
    assert page.url.endswith("/console/callers/%2B15550100122")
    other = page.locator("#other-events")
    assert other.locator("tr[data-kind='unattributed']", has_text=HIDDEN_CALL).count() == 1
    assert other.locator("tr[data-kind='pre-call']").count() == 0
    # And forgetting them says it would leave that transcription, which is not filed under their number
    page.click("text=Forget…")
    unattributed = archive_keys.unattributed_transcription_key(HIDDEN_CALL)
    assert unattributed in page.locator("#left-by-forget").inner_text()
    # The caller known only from a pre-call: no brief, but not "nothing kept"
    page.goto(seeded.url + "/console/callers/555.010.0133")
    assert page.locator("#no-brief").count() == 1
    assert page.locator("#other-events tr[data-kind='pre-call']").count() == 1
    # A call processing gave up on is marked on its caller's page
    page.goto(seeded.url + f"/console/callers/{SECOND_CALLER.replace('+', '%2B')}")
    assert "dead-lettered" in page.locator("article.call").first.inner_text()


def test_a_number_in_any_format_finds_what_is_kept_or_says_nothing_is(
    page: Any, seeded: ConsoleRuntime
) -> None:
    # Given a number no caller row is: only a failed outbound call dialled it
    page.goto(seeded.url + "/console")
    page.fill("input[name=q]", "+1 555-010-0155")
    page.click("form[role=search] button")
    assert page.locator("tbody tr").count() == 0
    # When the operator follows the lookup
    page.click(".lookup a")
    # Then the caller's page shows the failure, not "Nothing is kept"
    assert page.locator("#nothing-kept").count() == 0
    assert page.locator("#other-events tr[data-kind='initiation failure']").count() == 1
    # And a number nothing is kept about says so, after every kind was checked
    answer = page.goto(seeded.url + "/console/callers/555%20010%200111")
    assert answer.status == 404 and page.url.endswith("/console/callers/%2B15550100111")
    assert "dead letter" in page.locator("#nothing-kept").inner_text()


def test_calls_and_memories_are_dated_by_the_calls_start(page: Any, seeded: ConsoleRuntime) -> None:
    page.goto(seeded.url + f"/console/callers/{MARGARET.replace('+', '%2B')}")
    started = formatting.when(datetime.fromtimestamp(RETURNING_CALL_STARTED, UTC))
    assert started == "Tue 2 Dec 2025, 15:22 UTC"
    assert page.locator("article.call h3 time").first.inner_text() == started
    call_dates = set(page.locator("article.call h3 time").all_inner_texts())
    memory_dates = page.locator("ul.memories time").all_inner_texts()
    today = formatting.when(datetime.now(UTC))[:15]
    # Every memory is dated by its call, none by the day it was stored (today)
    assert memory_dates and set(memory_dates) <= call_dates
    assert not any(date.startswith(today) for date in memory_dates)
    # And the agent is named as the transcription names it
    assert "Riverside Vets assistant" in page.locator("article.call .small").first.inner_text()


def test_sign_out_ends_the_session_on_the_server(browser: Any, seeded: ConsoleRuntime) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in(page, seeded.url, seeded.console_key)
        (cookie,) = [c["value"] for c in context.cookies() if c["name"] == COOKIE]
        page.click("text=Sign out")
        assert page.locator("[role=status]").inner_text() == "Signed out."
        page.goto(seeded.url + "/console")
        assert page.url.endswith("/console/login")
        # The cookie's token opens nothing any more, even sent again by hand
        replayed = httpx.get(seeded.url + "/console", cookies={COOKIE: cookie}, timeout=10)
        assert replayed.status_code == 401
    finally:
        context.close()


def test_a_session_expires(browser: Any, seeded: ConsoleRuntime) -> None:
    # Given a console whose sessions last one second
    routes = console_routes(
        seeded.runtime.dependencies, "short-key", SessionPolicy(lifetime_seconds=1.0, idle_seconds=60)
    )
    server = LocalRuntimeServer(("127.0.0.1", 0), {}, extra_routes=routes)
    server.ready.set()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    wait_for(lambda: server.started, "the short-session console")
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in(page, server.url, "short-key")
        assert row_of(page, MARGARET).count() == 1
        # When the operator comes back after the lifetime
        time.sleep(1.2)
        page.goto(server.url + "/console")
        # Then they are asked to sign in again
        assert page.url.endswith("/console/login?ended=expired")
        assert "session has ended" in page.locator("[role=status]").inner_text()
    finally:
        context.close()
        server.shutdown()
        server.server_close()
