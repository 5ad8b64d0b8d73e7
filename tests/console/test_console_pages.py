"""The console over HTTP, without a browser: the key, the pages, search, audio, pagination."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from console_support import MARGARET, SECOND_CALLER, ConsoleRuntime
from helpers import undated
from starlette.requests import Request

from agentic_memory.caller_profile import CallFacts, GivenName
from agentic_memory.ports import ChatMessage
from agentic_memory.profile_store import record_call
from agentic_memory.settings import Settings
from agentic_memory.wiring import Dependencies, use_dependencies
from devtools.fakes import InMemoryArchive, InMemoryMemoryStore
from local_runtime.console import views
from local_runtime.console.access import COOKIE, ConsoleAccess, SessionPolicy
from local_runtime.console.command import console_banner, console_key_for
from local_runtime.runtime import build_runtime


def client(running: ConsoleRuntime, key: str | None = None) -> httpx.Client:
    headers = {"X-Console-Key": key} if key else {}
    return httpx.Client(base_url=running.url, headers=headers, timeout=30)


def test_the_console_needs_its_key(console_runtime: ConsoleRuntime) -> None:
    # Given no key, a wrong key, and a browser without the session cookie
    with client(console_runtime) as anonymous:
        refused = anonymous.get("/console")
        sent_to_login = anonymous.get("/console", headers={"Accept": "text/html"})
    with client(console_runtime, "not-the-key") as wrong:
        wrong_key = wrong.get(f"/console/callers/{MARGARET}")
    # Then nothing is shown: 401, or a redirect to the login form
    assert refused.status_code == 401
    assert sent_to_login.status_code == 303 and sent_to_login.headers["location"] == "/console/login"
    assert wrong_key.status_code == 401


def test_callers_are_listed_and_searched(console_runtime: ConsoleRuntime) -> None:
    with client(console_runtime, console_runtime.console_key) as console:
        listing = console.get("/console")
        by_name = console.get("/console", params={"q": "margaret"})
        nobody = console.get("/console", params={"q": "zebedee"})
    assert listing.status_code == 200
    assert MARGARET in listing.text and SECOND_CALLER in listing.text
    # The second caller said "my name is Margaret" too (Margaret herself may be renamed by now)
    assert SECOND_CALLER in by_name.text and "Margaret" in by_name.text
    assert "No caller matches" in nobody.text


def test_a_caller_page_shows_brief_answer_memories_and_calls(console_runtime: ConsoleRuntime) -> None:
    with client(console_runtime, console_runtime.console_key) as console:
        page = console.get(f"/console/callers/{MARGARET}")
        found = console.get(f"/console/callers/{MARGARET}", params={"q": "Biscuit check-up"})
    assert page.status_code == 200
    assert "What the agent will hear" in page.text
    assert "vaccination certificate" in page.text  # the returning call's summary
    assert 'src="/console/callers/%2B15550100142/calls/conv_6801khe5t8577ext65zsntr4mfdw.mp3"' in page.text
    assert "Biscuit" in found.text.split('id="search-results"')[1]


def test_the_audio_is_the_archived_mp3(console_runtime: ConsoleRuntime) -> None:
    with client(console_runtime, console_runtime.console_key) as console:
        audio = console.get(f"/console/callers/{MARGARET}/calls/conv_6801khe5t8577ext65zsntr4mfdw.mp3")
        other = console.get(f"/console/callers/{SECOND_CALLER}/calls/conv_6801khe5t8577ext65zsntr4mfdw.mp3")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    assert audio.content[:3] == b"ID3"
    # Another caller's page cannot play Margaret's call
    assert other.status_code == 404


def test_serve_offers_the_console_off_loopback_only_with_a_key_from_the_environment() -> None:
    generated = ["ELEVENLABS_WORKSPACE_KEY", "ELEVENLABS_HMAC_KEY", "CONSOLE_KEY"]
    dev_key = {"CONSOLE_KEY": "csk_dev_x"}
    assert console_key_for("127.0.0.1", dev_key, generated) == "csk_dev_x"
    assert console_key_for("::1", dev_key, generated) == "csk_dev_x"
    # A generated key on an address others can reach: no console at all
    assert console_key_for("0.0.0.0", dev_key, generated) is None
    assert console_key_for("192.168.1.20", dev_key, generated) is None
    # An explicit key: the operator chose to expose it
    assert console_key_for("0.0.0.0", {"CONSOLE_KEY": "chosen"}, generated[:2]) == "chosen"
    assert "off" in console_banner("http://0.0.0.0:8080", None, generated)[0]
    assert "CONSOLE_KEY=csk_dev_x" in console_banner("http://127.0.0.1:8080", "csk_dev_x", generated)[0]


def test_a_runtime_without_a_console_key_serves_no_console(
    tmp_path: Path, console_runtime: ConsoleRuntime
) -> None:
    settings = Settings.from_environment({"AGENTIC_MEMORY_HOME": str(tmp_path)})
    runtime = build_runtime(settings, "127.0.0.1", 0, memory=InMemoryMemoryStore())
    runtime.start_in_background()
    try:
        answer = httpx.get(runtime.url + "/console", headers={"X-Console-Key": ""})
    finally:
        runtime.close()
        # The handlers find their dependencies in one process-wide slot: give it back to the seeded runtime.
        use_dependencies(console_runtime.runtime.dependencies)
    assert answer.status_code == 404


def test_what_the_agent_will_hear_is_the_initiations_answer_and_archives_nothing(
    console_runtime: ConsoleRuntime,
) -> None:
    # Given the archive as it is before the console shows a caller
    before = set(console_runtime.archive.keys(""))
    view = views.caller_view(console_runtime.runtime.dependencies, SECOND_CALLER)
    # Then showing them wrote nothing
    assert set(console_runtime.archive.keys("")) == before
    # And what it shows is exactly what the pre-call answers
    answer = console_runtime.send("precall_twilio_inbound", caller=SECOND_CALLER)
    assert view is not None and view.will_hear == answer


def test_callers_come_25_a_page_and_a_search_reads_every_brief() -> None:
    # Given 30 callers with a brief each, one of them named Zebedee
    archive = InMemoryArchive()
    for n in range(30):
        name = "Zebedee" if n == 27 else f"Caller {n}"
        at = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(days=n)
        given = GivenName(name=name, source="data_collection", at=at, conversation_id=f"conv_{n}")
        record_call(
            archive,
            f"+1555020{n:04d}",
            CallFacts(conversation_id=f"conv_{n}", agent_id="agent_a", at=at, name=given),
        )
    deps = Dependencies(settings=Settings.from_environment({}), memory=InMemoryMemoryStore(), archive=archive)
    # Then the first page has 25, the second the last 5, newest last call first
    first, second = views.caller_rows(deps, page=1), views.caller_rows(deps, page=2)
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (30, 2, 25, 5)
    assert (first.rows[0].caller_id, second.rows[-1].caller_id) == ("+15550200029", "+15550200000")
    # And by name, A to Z over every page ("Caller 0" … "Caller 9", then "Zebedee")
    by_name = views.caller_rows(deps, page=2, sort="name")
    assert [row.name for row in by_name.rows][-2:] == ["Caller 9", "Zebedee"]
    # And a search by name finds the one
    found = views.caller_rows(deps, query="zeb")
    assert [row.caller_id for row in found.rows] == ["+15550200027"]
    assert found.rows[0].calls == 1 and found.rows[0].agents == ("agent_a",)


def test_briefs_kept_per_agent_are_listed_and_shown_per_agent() -> None:
    # Given MEMORY_SCOPE=caller_and_agent: a brief of the caller with agent_a, their memory under that agent
    archive, memory = InMemoryArchive(), InMemoryMemoryStore()
    at = datetime(2025, 6, 1, tzinfo=UTC)
    given = GivenName(name="Ada", source="data_collection", at=at, conversation_id="conv_1")
    call = CallFacts(conversation_id="conv_1", agent_id="agent_a", at=at, name=given)
    record_call(archive, "+15550400001", call, agent_id="agent_a")
    memory.add("+15550400001~agent_a", [ChatMessage(role="user", content="Ada keeps bees")], {})
    settings = Settings.from_environment({"MEMORY_SCOPE": "caller_and_agent"})
    deps = Dependencies(settings=settings, memory=memory, archive=archive)
    # Then the row names the agent, and the caller's page with that agent shows their brief and memory
    (row,) = views.caller_rows(deps).rows
    assert (row.caller_id, row.agent_id, row.name) == ("+15550400001", "agent_a", "Ada")
    view = views.caller_view(deps, "+15550400001", "agent_a")
    assert view is not None and view.will_hear["dynamic_variables"]["caller_name"] == "Ada"
    assert [record.text for record in view.memories] == ["Ada keeps bees"]
    assert undated(views.search(deps, "+15550400001", "bees", "agent_a")) == ["Ada keeps bees"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def session_request(token: str) -> Request:
    cookie = f"{COOKIE}={token}".encode()
    return Request({"type": "http", "method": "GET", "path": "/console", "headers": [(b"cookie", cookie)]})


def test_a_session_ends_when_idle_at_its_lifetime_and_on_sign_out() -> None:
    # Given sessions of 8 hours that end after 30 idle minutes
    clock = Clock()
    access = ConsoleAccess("k", SessionPolicy(lifetime_seconds=8 * 3600, idle_seconds=30 * 60), clock)
    busy, idle, closed = access.open_session(), access.open_session(), access.open_session()
    # When one is used every 20 minutes for 7h40, another left alone, the third signed out
    access.close_session(closed)
    for _ in range(23):
        clock.now += 20 * 60
        assert access.admits(session_request(busy))
    # Then the idle one and the signed-out one open nothing; the busy one ends at 8 hours all the same
    assert not access.admits(session_request(idle))
    assert not access.admits(session_request(closed))
    clock.now += 20 * 60
    assert not access.admits(session_request(busy))
    # And a made-up token, or none, never opened anything
    assert not access.admits(session_request("x" * 43)) and not access.admits(session_request(""))


def test_numbers_in_any_common_format_name_one_caller() -> None:
    deps = Dependencies(
        settings=Settings.from_environment({}), memory=InMemoryMemoryStore(), archive=InMemoryArchive()
    )
    typed = ["(555) 010-0155", "+1 555-010-0155", "555.010.0155", "555 010 0155", "+15550100155"]
    assert {views.caller_id_of(deps, number) for number in typed} == {"+15550100155"}
    # Under another country code the national form is that country's
    british = Dependencies(
        settings=Settings.from_environment({"DEFAULT_COUNTRY_CODE": "44"}),
        memory=InMemoryMemoryStore(),
        archive=InMemoryArchive(),
    )
    assert views.caller_id_of(british, "07700 900123") == "+447700900123"
    # An id that is no number stays the caller's key
    assert views.caller_id_of(deps, "user_7f3c") == "user_7f3c"


def test_a_stacks_dead_letters_are_said_to_be_unread_not_said_to_be_none() -> None:
    # Given the console over a stack's archive (S3), whose dead letters are in SQS
    settings = Settings.from_environment({"S3_BUCKET_NAME": "agentic-memory-dev-archive"})
    deps = Dependencies(settings=settings, memory=InMemoryMemoryStore(), archive=InMemoryArchive())
    # Then no page claims to have checked them
    assert not views.event_rows(deps).dead_letters_readable
    assert views.caller_view(deps, "+15550100111") is None
    page = views.events.dead_letters_of(deps)
    assert page.folder is None and page.parked() == {}


def test_a_callers_page_without_an_agent_shows_their_brief_with_one_and_mixed_briefs_list() -> None:
    # Given MEMORY_SCOPE=caller_and_agent: Ada's brief with agent_a only (found by a newcomer: her page
    # said "Name not known", a new caller's greeting, no rename form, and its search crashed)
    archive, memory = InMemoryArchive(), InMemoryMemoryStore()
    at = datetime(2025, 6, 1, tzinfo=UTC)
    given = GivenName(name="Ada", source="data_collection", at=at, conversation_id="conv_1")
    record_call(
        archive,
        "+15550400001",
        CallFacts(conversation_id="conv_1", agent_id="agent_a", at=at, name=given),
        agent_id="agent_a",
    )
    memory.add("+15550400001~agent_a", [ChatMessage(role="user", content="Ada keeps bees")], {})
    deps = Dependencies(
        settings=Settings.from_environment({"MEMORY_SCOPE": "caller_and_agent"}),
        memory=memory,
        archive=archive,
    )
    # When her page is opened without ?agent=
    view = views.caller_view(deps, "+15550400001")
    # Then it is her brief with agent_a, and what the agent will hear greets her back
    assert view is not None and view.agent_id == "agent_a" and view.brief is not None
    assert view.will_hear["dynamic_variables"]["caller_name"] == "Ada"
    assert undated(views.search(deps, "+15550400001", "bees", view.agent_id)) == ["Ada keeps bees"]
    # And when a brief of her own sits beside it (a change of MEMORY_SCOPE), the list still answers
    record_call(archive, "+15550400001", CallFacts(conversation_id="conv_2", agent_id="agent_a", at=at))
    rows = views.caller_rows(deps).rows
    assert sorted((row.caller_id, row.agent_id or "") for row in rows) == [
        ("+15550400001", ""),
        ("+15550400001", "agent_a"),
    ]
    # And her page is still her brief with agent_a, the one the runtime reads under this scope
    view = views.caller_view(deps, "+15550400001")
    assert view is not None and view.agent_id == "agent_a"
    # And the console exports nobody it keeps nothing about
    assert views.export(deps, "+15550409999") is None


def test_a_memory_edit_is_never_cut_short(console_runtime: ConsoleRuntime) -> None:
    # Found by a newcomer: a 7,010-character edit was stored as its first 4,091 characters, "Memory changed."
    with client(console_runtime, console_runtime.console_key) as console:
        page = console.get(f"/console/callers/{MARGARET}")
        memory_id = page.text.split("/memories/", 1)[1].split('"', 1)[0]
        target = f"/console/callers/{MARGARET}/memories/{memory_id}/edit"
        before = console.get(f"/console/callers/{MARGARET}/memories/{memory_id}").text
        # Longer than a memory may be: refused whole, with a reason
        too_long = console.post(target, data={"text": "é" * 4_001})
        assert "not changed" in too_long.headers["location"].replace("%20", " ")
        # Larger than any console form: 413, not cut
        huge = console.post(target, data={"text": "x" * 70_000})
        assert huge.status_code == 413 and "nothing was changed" in huge.text
        assert console.get(f"/console/callers/{MARGARET}/memories/{memory_id}").text == before
