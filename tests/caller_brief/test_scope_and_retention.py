"""MEMORY_SCOPE and RETENTION_DAYS through the entry points: two agents keep a caller's memories and
briefs apart or share them; an expired brief is not used and is purged; a dry run changes nothing."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from helpers import api_event, lambda_context, response_json, signed_headers, sqs_event, undated

from agentic_memory.corrections import Correction, corrections_key, record_correction
from agentic_memory.elevenlabs.search_memory import SearchMemoryRequest
from agentic_memory.ports import ChatMessage, MemoryRecord
from agentic_memory.profile_store import read_profile
from agentic_memory.recall.answer import FACT_MAX_CHARS
from agentic_memory.retention import purge_expired
from agentic_memory.scope import MemoryScope
from agentic_memory.search_memory import SearchOptions, search_memories
from agentic_memory.settings import Settings
from agentic_memory.wiring import Dependencies, use_dependencies
from devtools.fakes import InMemoryArchive, InMemoryMemoryStore
from devtools.fixtures import fixture_bytes, load_fixture
from local_runtime import operations
from services.conversation_initiation.handler import lambda_handler as conversation_initiation
from services.post_call.handler import lambda_handler as post_call
from services.post_call.processor import lambda_handler as process
from services.retention.handler import lambda_handler as retention
from services.search_memory.handler import lambda_handler as search_memory

MARGARET = "+15550100142"
AGENT_A = load_fixture("precall_twilio_inbound")["agent_id"]  # the agent the recorded call was with
AGENT_B = "agent_0000unrelatedbakery00000000"
# The recorded call started at 2025-11-18 15:04 UTC.
CALL_STARTED = datetime(2025, 11, 18, 15, 4, 12, tzinfo=UTC)


def deps_with(keys: dict[str, str], tmp_path: Path, clock_at: datetime, **environment: str) -> Dependencies:
    settings = Settings.from_environment(
        {
            "ELEVENLABS_WORKSPACE_KEY": keys["workspace"],
            "ELEVENLABS_HMAC_KEY": keys["hmac"],
            "AGENTIC_MEMORY_HOME": str(tmp_path / "home"),
            "AGENT_PHONE_NUMBERS": "+15550100001",
            **environment,
        }
    )
    return Dependencies(
        settings=settings, memory=InMemoryMemoryStore(), archive=InMemoryArchive(), clock=lambda: clock_at
    )


def install(holder: list[Dependencies], deps: Dependencies) -> Dependencies:
    holder.append(deps)
    use_dependencies(deps)
    return deps


def remember_the_recorded_call(keys: dict[str, str], deps: Dependencies) -> None:
    body = fixture_bytes("transcription_twilio_inbound")
    headers = signed_headers(body, keys["hmac"])
    assert post_call(api_event("POST", "/post-call", body, headers), lambda_context())["statusCode"] == 200
    for key in list(deps.archive.keys("post-call/")):
        assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}


def initiation_variables(keys: dict[str, str], agent_id: str) -> dict[str, str]:
    request = load_fixture("precall_twilio_inbound") | {"agent_id": agent_id}
    headers = {"Content-Type": "application/json", "X-Workspace-Key": keys["workspace"]}
    event = api_event("POST", "/client-data", json.dumps(request).encode(), headers)
    variables: dict[str, str] = response_json(conversation_initiation(event, lambda_context("client-data")))[
        "dynamic_variables"
    ]
    return variables


def search(query: str, **parameters: str) -> dict[str, object]:
    body = json.dumps({"query": query, "user_id": MARGARET, **parameters}).encode()
    event = api_event("POST", "/retrieve", body, {"Content-Type": "application/json"})
    answer: dict[str, object] = response_json(search_memory(event, lambda_context("retrieve")))
    return answer


# ---- scope ----


def test_two_agents_keep_a_callers_memories_and_briefs_apart_under_caller_and_agent_scope(
    keys, tmp_path, installed
):
    # Given memories kept per caller and agent, and Margaret's call with agent A processed
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED, MEMORY_SCOPE="caller_and_agent"))
    remember_the_recorded_call(keys, deps)
    # When she calls agent A, then an unrelated agent B of the same workspace
    with_a, with_b = initiation_variables(keys, AGENT_A), initiation_variables(keys, AGENT_B)
    # Then A greets her by name and B knows nothing of her
    assert (with_a["returning_caller"], with_a["caller_name"]) == ("yes", "Margaret")
    assert (with_b["returning_caller"], with_b["memory_count"], with_b["caller_name"]) == ("no", "0", "")
    # And the brief and memories are A's alone
    assert deps.archive.exists(f"profiles/{AGENT_A}/{MARGARET}.json")
    assert not deps.archive.exists(f"profiles/{MARGARET}.json")
    assert deps.memory.list_all(MARGARET) == [] and deps.memory.list_all(f"{MARGARET}~{AGENT_A}")
    # And the search tool finds Biscuit for A only, and nothing when no agent is named
    assert any("Biscuit" in m for m in search("dog Biscuit", agent_id=AGENT_A)["memories"])  # type: ignore[attr-defined]
    assert search("dog Biscuit", system__agent_id=AGENT_B) == {"memories": []}
    unnamed = search("dog Biscuit")
    assert unnamed["memories"] == [] and "agent_id" in str(unnamed["note"])


def test_agents_share_a_callers_memories_and_brief_under_caller_scope(keys, tmp_path, installed):
    # Given the default scope and Margaret's call with agent A processed
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED))
    remember_the_recorded_call(keys, deps)
    # When she calls agent B
    with_b = initiation_variables(keys, AGENT_B)
    # Then B knows her too, from the one brief, and its search finds her memories (agent or not)
    assert (with_b["returning_caller"], with_b["caller_name"]) == ("yes", "Margaret")
    assert deps.archive.exists(f"profiles/{MARGARET}.json")
    assert any("Biscuit" in m for m in search("dog Biscuit", agent_id=AGENT_B)["memories"])  # type: ignore[attr-defined]
    assert any("Biscuit" in m for m in search("dog Biscuit")["memories"])  # type: ignore[attr-defined]


def test_forget_erases_the_caller_with_every_agent(keys, tmp_path, installed):
    # Given a call kept per caller and agent, and memories from an earlier caller-wide scope
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED, MEMORY_SCOPE="caller_and_agent"))
    remember_the_recorded_call(keys, deps)
    deps.memory.add(MARGARET, [ChatMessage(role="user", content="kept before the scope changed")], {})
    # When she is forgotten
    found = operations.footprint(MARGARET, deps.archive, deps.memory)
    operations.forget(found, deps.archive, deps.memory)
    # Then nothing of hers is left under any user_id or key
    assert found.user_ids == [MARGARET, f"{MARGARET}~{AGENT_A}"]
    assert f"profiles/{AGENT_A}/{MARGARET}.json" in found.object_keys
    assert deps.memory.list_all(MARGARET) == [] and deps.memory.list_all(f"{MARGARET}~{AGENT_A}") == []
    assert not list(deps.archive.keys("profiles/")) and not list(deps.archive.keys(f"post-call/{MARGARET}/"))


def test_profiles_rebuild_makes_one_brief_per_agent_under_caller_and_agent_scope(keys, tmp_path, installed):
    # Given an archived call and no brief
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED, MEMORY_SCOPE="caller_and_agent"))
    remember_the_recorded_call(keys, deps)
    deps.archive.delete(f"profiles/{AGENT_A}/{MARGARET}.json")
    # When the briefs are rebuilt
    report = operations.rebuild_profiles([MARGARET], deps.archive, scope=MemoryScope.CALLER_AND_AGENT)
    # Then the brief with agent A is back, and there is no caller-wide brief
    assert report.rebuilt == {MARGARET: 1}
    assert list(deps.archive.keys("profiles/")) == [f"profiles/{AGENT_A}/{MARGARET}.json"]


# ---- retention ----


def test_an_expired_brief_is_not_used(keys, tmp_path, installed):
    # Given a 30-day retention and Margaret's only call 31 days before this pre-call
    now = CALL_STARTED + timedelta(days=31)
    deps = install(installed, deps_with(keys, tmp_path, now, RETENTION_DAYS="30"))
    remember_the_recorded_call(keys, deps)
    # When she calls
    variables = initiation_variables(keys, AGENT_A)
    # Then she is greeted as a new caller
    assert (variables["returning_caller"], variables["caller_name"], variables["memory_count"]) == (
        "no",
        "",
        "0",
    )


def test_a_brief_within_the_retention_is_used(keys, tmp_path, installed):
    now = CALL_STARTED + timedelta(days=29)
    deps = install(installed, deps_with(keys, tmp_path, now, RETENTION_DAYS="30"))
    remember_the_recorded_call(keys, deps)
    assert initiation_variables(keys, AGENT_A)["caller_name"] == "Margaret"


def _anonymous_call(conversation_id: str, started: datetime) -> dict[str, object]:
    """Margaret's number calling again, saying no name: about opening hours."""
    call = load_fixture("transcription_twilio_inbound")
    call["data"] |= {"conversation_id": conversation_id}
    call["data"]["metadata"]["start_time_unix_secs"] = int(started.timestamp())
    call["data"]["transcript"] = [{"role": "user", "message": "When are you open on Saturday?"}]
    call["data"]["analysis"] |= {
        "transcript_summary": "The caller asked about Saturday opening hours.",
        "call_summary_title": "Saturday hours",
        "data_collection_results": {},
    }
    return call


def test_an_expired_caller_who_calls_again_starts_a_new_brief(keys, tmp_path, installed):
    # Given a 30-day retention and Margaret's call, then 40 days later a call from her number
    later = CALL_STARTED + timedelta(days=40)
    deps = install(installed, deps_with(keys, tmp_path, later, RETENTION_DAYS="30"))
    remember_the_recorded_call(keys, deps)
    body = json.dumps(_anonymous_call("conv_after_expiry", later)).encode()
    post_call(api_event("POST", "/post-call", body, signed_headers(body, keys["hmac"])), lambda_context())
    # When that call is processed
    assert process(sqs_event(f"post-call/{MARGARET}/conv_after_expiry.json"), lambda_context()) == {
        "batchItemFailures": []
    }
    # Then her brief holds that call only: no name, no summary of the expired call
    brief = read_profile(deps.archive, MARGARET)
    assert brief is not None
    assert (brief.call_count, brief.name, brief.first_call_at) == (1, None, later)
    assert [note.summary for note in brief.recent_calls] == ["The caller asked about Saturday opening hours."]
    assert brief.collected == {}
    # And the next pre-call greets a returning caller without the expired name or call
    variables = initiation_variables(keys, AGENT_A)
    assert (variables["returning_caller"], variables["caller_name"]) == ("yes", "")
    assert "Biscuit" not in variables["memory_context"] and "Margaret" not in variables["memory_context"]
    # And a rebuild from the archive leaves the expired call out too
    report = operations.rebuild_profiles([MARGARET], deps.archive, retention_days=30)
    assert report.rebuilt == {MARGARET: 1}
    assert read_profile(deps.archive, MARGARET) == brief


def test_a_caller_within_the_retention_keeps_their_brief_across_calls(keys, tmp_path, installed):
    # Given a 30-day retention and Margaret's call, then 20 days later a call from her number
    later = CALL_STARTED + timedelta(days=20)
    deps = install(installed, deps_with(keys, tmp_path, later, RETENTION_DAYS="30"))
    remember_the_recorded_call(keys, deps)
    body = json.dumps(_anonymous_call("conv_within", later)).encode()
    post_call(api_event("POST", "/post-call", body, signed_headers(body, keys["hmac"])), lambda_context())
    # When that call is processed
    process(sqs_event(f"post-call/{MARGARET}/conv_within.json"), lambda_context())
    # Then both calls are in her brief, which still knows her name
    brief = read_profile(deps.archive, MARGARET)
    assert brief is not None and (brief.call_count, brief.name and brief.name.name) == (2, "Margaret")


class _Dated(InMemoryMemoryStore):
    def search(self, user_id, query, limit, timeout=None):
        return [
            MemoryRecord(id="1", text="old dog fact", created_at="2025-01-02T10:00:00Z", score=0.9),
            MemoryRecord(id="2", text="new dog fact", created_at="2025-03-01T10:00:00+00:00", score=0.8),
            MemoryRecord(id="3", text="dog fact by call time", metadata={"timestamp": "2025-03-02T10:00:00"}),
        ]


def test_the_tool_leaves_out_memories_older_than_the_retention():
    # Given memories made in January and March, and a retention that keeps February on
    request = SearchMemoryRequest.model_validate({"query": "dog", "user_id": MARGARET})
    oldest_kept = datetime(2025, 2, 1, tzinfo=UTC)
    # When the tool searches
    _, texts = search_memories(request, _Dated(), None, SearchOptions(oldest_kept=oldest_kept))
    # Then January's memory is left out
    assert undated(texts) == ["new dog fact", "dog fact by call time"]


class _Replayed(InMemoryMemoryStore):
    def search(self, user_id, query, limit, timeout=None):
        return [
            MemoryRecord(
                id="1",
                text="dog fact of a January call replayed in March",
                created_at="2025-03-05T10:00:00Z",
                metadata={"timestamp": "2025-01-02T10:00:00+00:00"},
            ),
            MemoryRecord(
                id="2",
                text="dog fact of a March call",
                created_at="2025-03-05T10:00:00Z",
                metadata={"timestamp": "2025-03-01T10:00:00+00:00"},
            ),
        ]


def test_the_tool_judges_a_memory_by_its_calls_time_not_by_when_mem0_made_it():
    # Given memories Mem0 made in March, of a January call (replayed late) and of a March call
    request = SearchMemoryRequest.model_validate({"query": "dog", "user_id": MARGARET})
    # When the tool searches with a retention that keeps February on
    options = SearchOptions(oldest_kept=datetime(2025, 2, 1, tzinfo=UTC))
    _, texts = search_memories(request, _Replayed(), None, options)
    # Then the January call's memory is left out, and the one kept is dated by its call
    assert texts == ["[1 March 2025] dog fact of a March call"]


class _Huge(InMemoryMemoryStore):
    def search(self, user_id, query, limit, timeout=None):
        # A memory stored before memories were capped: 125 KB
        return [MemoryRecord(id="1", text="Biscuit likes long walks by the river. " * 3_300, score=0.9)]


def test_the_tool_returns_a_huge_memory_clipped_at_a_word():
    # Given a caller's memory of 125 KB
    request = SearchMemoryRequest.model_validate({"query": "dog", "user_id": MARGARET})
    # When the tool searches
    _, texts = search_memories(request, _Huge(), None, SearchOptions())
    # Then the text read back mid-call is clipped to FACT_MAX_CHARS, ending on a whole word
    [text] = texts
    assert len(text) <= FACT_MAX_CHARS and text.endswith("Biscuit likes long walks by…")
    assert text.startswith("Biscuit likes long walks by the river. Biscuit")


def test_the_purge_deletes_an_expired_callers_brief_memories_and_archived_calls(keys, tmp_path, installed):
    # Given Margaret's call, processed, with a pre-call exchange, and a 30-day retention 31 days later
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED))
    initiation_variables(keys, AGENT_A)
    remember_the_recorded_call(keys, deps)
    before = sorted(deps.archive.keys(""))
    assert any(k.startswith("client-data/") for k in before) and deps.memory.list_all(MARGARET)
    later = CALL_STARTED + timedelta(days=31)
    # When a dry run looks first
    dry = purge_expired(deps.archive, deps.memory, 30, later, dry_run=True)
    # Then it counts what would go and changes nothing
    assert [b.key for b in dry.expired] == [f"profiles/{MARGARET}.json"]
    assert dry.memories_deleted == len(deps.memory.list_all(MARGARET)) > 0
    assert sorted(deps.archive.keys("")) == before
    # When the purge runs
    lines: list[str] = []
    done = purge_expired(deps.archive, deps.memory, 30, later, progress=lambda i, n, k, o: lines.append(o))
    # Then her brief, memories, transcription and pre-call exchange are gone; other agents' numbers stay
    assert done.objects_deleted == dry.objects_deleted and not done.failed
    assert deps.memory.list_all(MARGARET) == []
    assert [k for k in deps.archive.keys("") if not k.startswith("agents/")] == []
    assert lines == [f"deleted {dry.memories_deleted} memories and {dry.objects_deleted} archived objects"]


def test_the_purge_keeps_a_brief_within_the_retention_and_does_nothing_without_one(keys, tmp_path, installed):
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED))
    remember_the_recorded_call(keys, deps)
    before = sorted(deps.archive.keys(""))
    assert purge_expired(deps.archive, deps.memory, 30, CALL_STARTED + timedelta(days=29)).expired == []
    assert purge_expired(deps.archive, deps.memory, None, CALL_STARTED + timedelta(days=999)).expired == []
    assert sorted(deps.archive.keys("")) == before and deps.memory.list_all(MARGARET)


def test_the_purge_of_a_brief_with_one_agent_keeps_the_callers_calls_with_another(keys, tmp_path, installed):
    # Given per-agent memory, Margaret's old call with agent A, and a recent call with agent B
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED, MEMORY_SCOPE="caller_and_agent"))
    remember_the_recorded_call(keys, deps)
    recent = load_fixture("transcription_twilio_inbound")
    recent["data"] |= {"agent_id": AGENT_B, "conversation_id": "conv_recent_with_b"}
    for turn in recent["data"]["transcript"]:  # a call with B only: B said every agent turn
        if turn.get("agent_metadata"):
            turn["agent_metadata"]["agent_id"] = AGENT_B
    recent["data"]["metadata"]["start_time_unix_secs"] = int((CALL_STARTED + timedelta(days=40)).timestamp())
    body = json.dumps(recent).encode()
    post_call(api_event("POST", "/post-call", body, signed_headers(body, keys["hmac"])), lambda_context())
    assert process(sqs_event(f"post-call/{MARGARET}/conv_recent_with_b.json"), lambda_context()) == {
        "batchItemFailures": []
    }
    # When the purge runs 45 days after the first call
    done = purge_expired(deps.archive, deps.memory, 30, CALL_STARTED + timedelta(days=45))
    # Then only the brief with A expired; B's brief, memories and call are kept
    assert [b.key for b in done.expired] == [f"profiles/{AGENT_A}/{MARGARET}.json"]
    assert list(deps.archive.keys("profiles/")) == [f"profiles/{AGENT_B}/{MARGARET}.json"]
    assert list(deps.archive.keys(f"post-call/{MARGARET}/")) == [
        f"post-call/{MARGARET}/conv_recent_with_b.json"
    ]
    assert deps.memory.list_all(f"{MARGARET}~{AGENT_A}") == [] and deps.memory.list_all(
        f"{MARGARET}~{AGENT_B}"
    )


def test_the_scheduled_retention_function_purges_and_answers_counts_only(keys, tmp_path, installed):
    # Given a processed call and, 31 days later, a 30-day retention
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED))
    remember_the_recorded_call(keys, deps)
    later = deps_with(keys, tmp_path, CALL_STARTED + timedelta(days=31), RETENTION_DAYS="30")
    install(
        installed,
        Dependencies(settings=later.settings, memory=deps.memory, archive=deps.archive, clock=later.clock),
    )
    # When the schedule invokes the retention function
    answer = retention(
        {"source": "aws.events", "detail-type": "Scheduled Event"}, lambda_context("retention")
    )
    # Then her brief and memories are gone, and the answer names nobody
    assert answer["retention_days"] == 30 and answer["expired"] == 1 and answer["failed"] == 0
    assert answer["memories_deleted"] > 0 and MARGARET not in json.dumps(answer)
    assert not list(deps.archive.keys("profiles/")) and deps.memory.list_all(MARGARET) == []


def test_the_purge_takes_the_corrections_record_with_the_callers_last_brief(keys, tmp_path, installed):
    # Given an operator's correction of Margaret's name (its record holds the name it replaced)
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED))
    remember_the_recorded_call(keys, deps)
    correction = Correction(kind="name", at=CALL_STARTED, by="console", name="Eleanor", replaces="Margaret")
    record_correction(deps.archive, MARGARET, correction)
    assert deps.archive.exists(corrections_key(MARGARET))
    # When her brief expires and the purge runs, the record goes with it
    done = purge_expired(deps.archive, deps.memory, 30, CALL_STARTED + timedelta(days=31))
    assert not done.failed and not deps.archive.exists(corrections_key(MARGARET))


def test_the_corrections_record_stays_while_another_agents_brief_is_in_force(keys, tmp_path, installed):
    # Given per-agent memory, an old call with A, a recent one with B, and a correction
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED, MEMORY_SCOPE="caller_and_agent"))
    remember_the_recorded_call(keys, deps)
    recent = load_fixture("transcription_twilio_inbound")
    recent["data"] |= {"agent_id": AGENT_B, "conversation_id": "conv_recent_with_b"}
    for turn in recent["data"]["transcript"]:
        if turn.get("agent_metadata"):
            turn["agent_metadata"]["agent_id"] = AGENT_B
    recent["data"]["metadata"]["start_time_unix_secs"] = int((CALL_STARTED + timedelta(days=40)).timestamp())
    body = json.dumps(recent).encode()
    post_call(api_event("POST", "/post-call", body, signed_headers(body, keys["hmac"])), lambda_context())
    process(sqs_event(f"post-call/{MARGARET}/conv_recent_with_b.json"), lambda_context())
    record_correction(
        deps.archive,
        MARGARET,
        Correction(kind="name", at=CALL_STARTED, by="console", name="Eleanor", replaces="Margaret"),
    )
    # When only A's brief expires, the record is kept for the brief with B
    done = purge_expired(deps.archive, deps.memory, 30, CALL_STARTED + timedelta(days=45))
    assert [b.key for b in done.expired] == [f"profiles/{AGENT_A}/{MARGARET}.json"]
    assert deps.archive.exists(corrections_key(MARGARET))
