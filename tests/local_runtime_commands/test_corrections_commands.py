"""Issue 19 items 1-2: ``agentic-memory rename | memory delete | memory edit | remove-call | export``.

Run in process over a filesystem archive and the in-memory store (the commands' own code path, as the
runtime's admin API runs them), with the recorded calls of Margaret processed by the real processor.
After each correction a ``replay --caller`` and a ``profiles rebuild`` change nothing.
"""

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentic_memory import archive_keys
from agentic_memory.conversation_initiation import answer_from_brief
from agentic_memory.corrections import corrections_key, read_corrections
from agentic_memory.elevenlabs.search_memory import SearchMemoryRequest
from agentic_memory.post_call import archive_key_for, parse_event, process_archived_event
from agentic_memory.profile_store import read_profile
from agentic_memory.search_memory import options_from, search_memories
from agentic_memory.settings import Settings
from agentic_memory.wiring import Dependencies
from devtools.fakes import InMemoryMemoryStore
from devtools.fixtures import fixture_bytes, load_fixture
from local_runtime import operations, operator_commands
from local_runtime.adapters.filesystem_archive import FilesystemArchive
from local_runtime.correction_commands import routed_argv

MARGARET = "+15550100142"
FIRST = load_fixture("transcription_twilio_inbound")["data"]["conversation_id"]
SECOND = load_fixture("transcription_returning_caller")["data"]["conversation_id"]
AGENT = load_fixture("transcription_twilio_inbound")["data"]["agent_id"]


@pytest.fixture
def deps(tmp_path: Path) -> Dependencies:
    """Margaret's two calls and the first call's audio, archived and processed."""
    settings = Settings.from_environment({"AGENTIC_MEMORY_HOME": str(tmp_path)})
    deps = Dependencies(
        settings=settings, memory=InMemoryMemoryStore(), archive=FilesystemArchive(tmp_path / "archive")
    )
    for name in ("transcription_twilio_inbound", "audio", "transcription_returning_caller"):
        body = fixture_bytes(name)
        key = archive_key_for(parse_event(body), settings)
        deps.archive.put_new(key, body, "application/json")
        process_archived_event(key, settings, deps.archive, deps.memory)
    return deps


def command(deps: Dependencies, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = operator_commands.run(operator_commands.parse(list(argv)), deps)
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def what_the_agent_hears(deps: Dependencies) -> str:
    """Everything the pre-call answers, plus what search_memory answers about the caller's name."""
    brief = read_profile(deps.archive, MARGARET)
    answer = answer_from_brief(MARGARET, brief, deps.settings, datetime.now(UTC)).to_wire()
    request = SearchMemoryRequest(query="what is my name Margaret Eleanor", user_id=MARGARET)
    _, found = search_memories(
        request, deps.memory, deps.archive, options_from(deps.settings, datetime.now(UTC))
    )
    return json.dumps(answer, ensure_ascii=False) + "\n" + "\n".join(found)


def state(deps: Dependencies) -> tuple[bytes, list[tuple[str, str]], bytes]:
    """The brief, the memories and the recall index, as stored."""
    memories = sorted((r.id, r.text) for r in deps.memory.list_all(MARGARET))
    recall = deps.archive.get(archive_keys.recall_key(MARGARET))
    return deps.archive.get(archive_keys.profile_key(MARGARET)), memories, recall


def replay_and_rebuild_change_nothing(deps: Dependencies, capsys: pytest.CaptureFixture[str]) -> None:
    before = state(deps)
    command(deps, capsys, "replay", "--caller", MARGARET)
    command(deps, capsys, "profiles", "rebuild", "--caller", MARGARET)
    brief, memories, _ = state(deps)
    assert json.loads(brief) == json.loads(before[0])
    assert memories == before[1]
    command(deps, capsys, "replay", "--caller", MARGARET)
    assert state(deps)[1] == before[1]


def test_a_corrected_name_is_the_only_name_the_agent_hears(deps, capsys):
    # Given Margaret's calls: the agent hears "Margaret" in the greeting, summary, context and search
    assert "Margaret" in what_the_agent_hears(deps)
    # When the operator corrects her name
    out = command(deps, capsys, "rename", MARGARET, "Eleanor")
    assert "now Eleanor (was Margaret)" in out
    # Then the greeting, the variables, the summary, the context and the search answer say Eleanor only
    heard = what_the_agent_hears(deps)
    assert "Margaret" not in heard
    assert "Welcome back, Eleanor" in heard and "Eleanor called to book" in heard
    assert "first_name: Eleanor" in heard
    # And other people and animals keep their names
    assert "Biscuit" in heard
    assert all("Margaret" not in r.text for r in deps.memory.list_all(MARGARET))
    # And the correction is recorded: who, when, what
    (entry,) = read_corrections(deps.archive, MARGARET).entries
    assert (entry.kind, entry.name, entry.replaces) == ("name", "Eleanor", "Margaret")
    assert entry.by.startswith("cli") and entry.at.tzinfo is not None
    # And a replay and a rebuild change nothing: the correction holds
    replay_and_rebuild_change_nothing(deps, capsys)
    assert "Margaret" not in what_the_agent_hears(deps)


def test_a_call_after_the_correction_keeps_the_operators_name(deps, capsys):
    # Given the name corrected
    command(deps, capsys, "rename", MARGARET, "Eleanor")
    # When a new call says "Margaret" again (the recording, as a new conversation)
    payload = load_fixture("transcription_returning_caller")
    payload["data"]["conversation_id"] = "conv_after0correction"
    payload["data"]["metadata"]["start_time_unix_secs"] += 86400
    body = json.dumps(payload).encode()
    key = archive_key_for(parse_event(body), deps.settings)
    deps.archive.put_new(key, body, "application/json")
    process_archived_event(key, deps.settings, deps.archive, deps.memory)
    # Then the brief counts the call and the agent still hears Eleanor only
    brief = read_profile(deps.archive, MARGARET)
    assert brief is not None and brief.call_count == 3 and brief.name is not None
    assert brief.name.name == "Eleanor"
    assert "Margaret" not in what_the_agent_hears(deps)
    replay_and_rebuild_change_nothing(deps, capsys)


def test_a_memory_is_deleted_only_with_yes_and_never_returns(deps, capsys):
    # Given one of Margaret's memories
    doomed = next(r for r in deps.memory.list_all(MARGARET) if r.metadata.get("type") == "factual")
    # When the operator asks without --yes, nothing changes
    out = command(deps, capsys, "memory", "delete", MARGARET, doomed.id)
    assert "nothing changed" in out and doomed.text[:30] in out
    assert any(r.id == doomed.id for r in deps.memory.list_all(MARGARET))
    # When with --yes, it is gone and the deletion is recorded
    command(deps, capsys, "memory", "delete", MARGARET, doomed.id, "--yes")
    assert all(r.text != doomed.text for r in deps.memory.list_all(MARGARET))
    (entry,) = read_corrections(deps.archive, MARGARET).entries
    assert (entry.kind, entry.memory_id, entry.text) == ("memory_deleted", doomed.id, doomed.text)
    # Then a replay of the caller does not bring it back (it did before corrections were recorded)
    replay_and_rebuild_change_nothing(deps, capsys)
    assert all(r.text != doomed.text for r in deps.memory.list_all(MARGARET))


def test_an_edited_memory_stays_edited(deps, capsys):
    edited = next(r for r in deps.memory.list_all(MARGARET) if r.metadata.get("type") == "factual")
    command(deps, capsys, "memory", "edit", MARGARET, edited.id, "Prefers morning appointments.", "--yes")
    texts = [r.text for r in deps.memory.list_all(MARGARET)]
    assert "Prefers morning appointments." in texts and edited.text not in texts
    replay_and_rebuild_change_nothing(deps, capsys)
    assert edited.text not in [r.text for r in deps.memory.list_all(MARGARET)]


def test_remove_one_call(deps, capsys):
    archive = deps.archive
    audio = archive_keys.audio_key(AGENT, FIRST)
    assert archive.exists(audio)
    # When the operator lists the call first, nothing is removed
    out = command(deps, capsys, "remove-call", MARGARET, FIRST)
    assert "nothing removed" in out and audio in out
    # When with --yes
    command(deps, capsys, "remove-call", MARGARET, FIRST, "--yes")
    # Then its event, audio and memories are gone, the other call stays
    assert not archive.exists(archive_keys.transcription_key(MARGARET, FIRST)) and not archive.exists(audio)
    assert archive.exists(archive_keys.transcription_key(MARGARET, SECOND))
    conversations = {r.metadata.get("conversation_id") for r in deps.memory.list_all(MARGARET)}
    assert conversations == {SECOND}
    # And the brief and the recall index are without it
    brief = read_profile(archive, MARGARET)
    assert brief is not None and brief.call_count == 1 and FIRST not in brief.conversations
    assert "yearly vaccinations" not in what_the_agent_hears(deps)  # said only in the removed call
    assert read_corrections(archive, MARGARET).removed_calls() == {FIRST}
    replay_and_rebuild_change_nothing(deps, capsys)
    assert read_profile(archive, MARGARET).call_count == 1  # type: ignore[union-attr]


def test_export_is_one_zip_a_person_can_open(deps, capsys, tmp_path):
    command(deps, capsys, "rename", MARGARET, "Eleanor")
    target = tmp_path / "margaret.zip"
    out = command(deps, capsys, "export", MARGARET, "--output", str(target))
    assert "2 call(s), 1 audio file(s)" in out
    with zipfile.ZipFile(io.BytesIO(target.read_bytes())) as bundle:
        names = bundle.namelist()
        readme = bundle.read("README.txt").decode()
        transcripts = [bundle.read(n).decode() for n in names if n.endswith("transcript.txt")]
        mp3s = [n for n in names if n.endswith("audio.mp3")]
        corrections = json.loads(bundle.read("corrections.json"))
        brief = json.loads(bundle.read("brief.json"))
        memories = bundle.read("memories.txt").decode()
    assert MARGARET in readme and f"_{FIRST}/" in readme and f"_{SECOND}/" in readme
    assert len(transcripts) == 2 and any("Caller: Hi, my name is Margaret." in t for t in transcripts)
    assert len(mp3s) == 1 and bundle_bytes(target, mp3s[0])[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    assert corrections["entries"][0]["name"] == "Eleanor"
    assert brief["name"]["name"] == "Eleanor"
    listed = [line for line in memories.splitlines() if line.startswith("- [")]
    assert len(listed) == len(deps.memory.list_all(MARGARET))


def bundle_bytes(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as bundle:
        return bundle.read(name)


def test_forget_erases_the_corrections_too(deps, capsys):
    command(deps, capsys, "rename", MARGARET, "Eleanor")
    assert deps.archive.exists(corrections_key(MARGARET))
    command(deps, capsys, "forget", MARGARET, "--yes")
    assert not deps.archive.exists(corrections_key(MARGARET))


def test_an_export_through_the_runtime_names_its_file_absolutely(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["export", MARGARET, "-o", "out.zip"]
    assert routed_argv(operator_commands.parse(argv), argv) == [
        "export",
        MARGARET,
        "--output",
        str(tmp_path / "out.zip"),
    ]


@pytest.mark.parametrize("name", ["A" * 20_000, "<script>alert(1)</script>", "   "])
def test_rename_refuses_what_is_no_name_and_records_nothing(deps, capsys, name):
    # Found by a newcomer: a 20,000-character name held the runtime at full CPU for minutes
    code = operator_commands.run(operator_commands.parse(["rename", MARGARET, name]), deps)
    out = capsys.readouterr().out
    assert code == 2 and "not a name" in out
    assert not deps.archive.exists(corrections_key(MARGARET))
    assert read_profile(deps.archive, MARGARET).name.name == "Margaret"


def searched(deps: Dependencies, query: str) -> str:
    request = SearchMemoryRequest(query=query, user_id=MARGARET)
    _, found = search_memories(
        request, deps.memory, deps.archive, options_from(deps.settings, datetime.now(UTC))
    )
    return "\n".join(found)


def passage_saying(deps: Dependencies, words: str) -> str:
    """The id of Margaret's verbatim memory (a passage of a call) that holds ``words``."""
    return next(
        r.id
        for r in deps.memory.list_all(MARGARET)
        if r.metadata.get("type") == "semantic" and words in r.text
    )


def test_a_deleted_memory_is_no_longer_found_by_search_memory(deps, capsys):
    # Given the passage where Margaret asks for the certificate, found by the search tool
    said = "Could you send me the vaccination certificate?"
    assert said in searched(deps, "vaccination certificate for the trip")
    doomed = passage_saying(deps, said)
    # When the operator deletes that memory
    command(deps, capsys, "memory", "delete", MARGARET, doomed, "--yes")
    # Then neither the memory store nor the recall index answers what it said
    assert said not in searched(deps, "vaccination certificate for the trip")
    # And a replay and a rebuild do not bring it back into either
    replay_and_rebuild_change_nothing(deps, capsys)
    assert said not in searched(deps, "vaccination certificate for the trip")
    # And the other call is still found
    assert "yearly vaccinations" in searched(deps, "yearly vaccinations for Biscuit")


def test_a_deleted_call_summary_is_no_longer_found(deps, capsys):
    summary = next(
        r
        for r in deps.memory.list_all(MARGARET)
        if r.metadata.get("type") == "factual" and r.metadata.get("conversation_id") == SECOND
    )
    assert "needs for her trip" in summary.text and "needs for her trip" in searched(deps, "certificate trip")
    assert "needs for her trip" in what_the_agent_hears(deps)
    command(deps, capsys, "memory", "delete", MARGARET, summary.id, "--yes")
    # Then neither the search tool nor the pre-call's summary of the call says it any more
    assert "needs for her trip" not in searched(deps, "certificate trip")
    assert "needs for her trip" not in what_the_agent_hears(deps)
    replay_and_rebuild_change_nothing(deps, capsys)
    assert "needs for her trip" not in searched(deps, "certificate trip")
    assert "needs for her trip" not in what_the_agent_hears(deps)


def test_an_edited_memory_is_what_search_memory_answers(deps, capsys):
    edited = passage_saying(deps, "vaccination certificate")
    new_text = "Caller: Please post the vaccination papers to my daughter's address instead."
    command(deps, capsys, "memory", "edit", MARGARET, edited, new_text, "--yes")
    answer = searched(deps, "vaccination certificate papers")
    assert "post the vaccination papers to my daughter's address" in answer
    assert "Could you send me the vaccination certificate" not in answer
    replay_and_rebuild_change_nothing(deps, capsys)
    answer = searched(deps, "vaccination certificate papers")
    assert "Could you send me the vaccination certificate" not in answer and "daughter's address" in answer


def test_removing_every_call_leaves_no_brief_and_no_index(deps, capsys):
    # When the operator removes both of Margaret's calls, one after the other
    command(deps, capsys, "remove-call", MARGARET, FIRST, "--yes")
    command(deps, capsys, "remove-call", MARGARET, SECOND, "--yes")
    # Then nothing built from them is left: no brief (a new caller to the pre-call), no index, no memory
    assert read_profile(deps.archive, MARGARET) is None
    assert not deps.archive.exists(archive_keys.recall_key(MARGARET))
    assert deps.memory.list_all(MARGARET) == []
    assert searched(deps, "vaccination certificate Biscuit wedding") == ""
    heard = what_the_agent_hears(deps)
    assert "Welcome back" not in heard and "Biscuit" not in heard
    # And a rebuild makes none again
    command(deps, capsys, "profiles", "rebuild", "--caller", MARGARET)
    assert read_profile(deps.archive, MARGARET) is None
    assert not deps.archive.exists(archive_keys.recall_key(MARGARET))


def test_a_late_delivery_of_a_removed_call_is_not_kept(deps, capsys):
    command(deps, capsys, "remove-call", MARGARET, FIRST, "--yes")
    # When ElevenLabs delivers the removed call again (a retry, a replayed webhook) with its audio
    for name in ("transcription_twilio_inbound", "audio"):
        body = fixture_bytes(name)
        key = archive_key_for(parse_event(body), deps.settings)
        deps.archive.put(key, body, "application/json")
    transcription = archive_keys.transcription_key(MARGARET, FIRST)
    result = process_archived_event(transcription, deps.settings, deps.archive, deps.memory)
    # Then processing skips it and deletes what the delivery archived: the removal holds
    assert result.skipped == "removed_by_operator"
    assert not deps.archive.exists(transcription)
    assert not deps.archive.exists(archive_keys.audio_event_key(AGENT, FIRST))
    out = command(deps, capsys, "export", MARGARET, "--output", str(Path(deps.settings.home) / "m.zip"))
    assert "1 call(s), 0 audio file(s)" in out
    assert {r.metadata.get("conversation_id") for r in deps.memory.list_all(MARGARET)} == {SECOND}


@pytest.fixture
def per_agent(tmp_path: Path) -> Dependencies:
    """Margaret's two calls under MEMORY_SCOPE=caller_and_agent: her brief, index and memories are
    kept with the agent (profiles/{agent}/…, recall/{agent}/…, user_id caller~agent)."""
    settings = Settings.from_environment(
        {"AGENTIC_MEMORY_HOME": str(tmp_path), "MEMORY_SCOPE": "caller_and_agent"}
    )
    deps = Dependencies(
        settings=settings, memory=InMemoryMemoryStore(), archive=FilesystemArchive(tmp_path / "archive")
    )
    for name in ("transcription_twilio_inbound", "transcription_returning_caller"):
        body = fixture_bytes(name)
        key = archive_key_for(parse_event(body), settings)
        deps.archive.put_new(key, body, "application/json")
        process_archived_event(key, settings, deps.archive, deps.memory)
    return deps


def test_every_command_works_with_briefs_kept_per_agent(per_agent, capsys, tmp_path):
    deps = per_agent
    brief_key = archive_keys.profile_key(MARGARET, AGENT)
    assert deps.archive.exists(brief_key) and not deps.archive.exists(archive_keys.profile_key(MARGARET))
    # memories: the brief with the agent, and each memory says whose it is
    out = command(deps, capsys, "memories", MARGARET)
    assert f"brief with agent {AGENT}" in out and "no brief" not in out
    assert f"with {AGENT} {FIRST}" in out
    # rename: finds her brief with the agent
    out = command(deps, capsys, "rename", MARGARET, "Eleanor")
    assert "now Eleanor (was Margaret)" in out
    assert read_profile(deps.archive, MARGARET, AGENT).name.name == "Eleanor"  # type: ignore[union-attr]
    # rebuild: two calls, counted once each
    out = command(deps, capsys, "profiles", "rebuild", "--caller", MARGARET)
    assert "2 calls in the brief, 2 in the recall index" in out
    # export: the brief with the agent is in it
    target = tmp_path / "export.zip"
    command(deps, capsys, "export", MARGARET, "--output", str(target))
    with zipfile.ZipFile(target) as bundle:
        assert json.loads(bundle.read(f"briefs/{AGENT}.json"))["name"]["name"] == "Eleanor"
        assert f"briefs/{AGENT}.json" in bundle.read("README.txt").decode()
    # remove-call of both: no brief and no index is left with the agent
    command(deps, capsys, "remove-call", MARGARET, FIRST, "--yes")
    command(deps, capsys, "remove-call", MARGARET, SECOND, "--yes")
    assert not deps.archive.exists(brief_key)
    assert not deps.archive.exists(archive_keys.recall_key(MARGARET, AGENT))
    assert "no brief" in command(deps, capsys, "memories", MARGARET)


def test_a_late_audio_delivery_of_a_removed_call_is_not_kept(deps, capsys):
    # Found by a newcomer: the transcription delivered again was dropped, but its audio after it stayed,
    # out of reach of remove-call, forget and export
    command(deps, capsys, "remove-call", MARGARET, FIRST, "--yes")
    audio_event = archive_key_for(parse_event(fixture_bytes("audio")), deps.settings)
    deps.archive.put(audio_event, fixture_bytes("audio"), "application/json")
    result = process_archived_event(audio_event, deps.settings, deps.archive, deps.memory)
    assert result.skipped == "removed_by_operator"
    assert not deps.archive.exists(audio_event)
    assert not deps.archive.exists(archive_keys.audio_key(AGENT, FIRST))
    # And a replay of the conversation keeps nothing either
    deps.archive.put(audio_event, fixture_bytes("audio"), "application/json")
    command(deps, capsys, "replay", "--conversation", FIRST)
    assert not deps.archive.exists(archive_keys.audio_key(AGENT, FIRST))


def test_removing_a_call_removes_the_pre_call_answers_made_from_it(deps, capsys):
    # Given a pre-call answered before the call, and one after it (its brief held the call's summary)
    started = datetime.fromtimestamp(
        load_fixture("transcription_twilio_inbound")["data"]["metadata"]["start_time_unix_secs"], UTC
    )
    before = (
        archive_keys.client_data_folder(MARGARET, started - timedelta(days=30), "CAearlier") + "response.json"
    )
    after = (
        archive_keys.client_data_folder(MARGARET, started + timedelta(days=2), "CAlater") + "response.json"
    )
    for key in (before, after):
        deps.archive.put(
            key, b'{"dynamic_variables": {"memory_summary": "yearly vaccinations"}}', "application/json"
        )
    # When the call is removed, the listing names the later answer, and it goes
    assert after in command(deps, capsys, "remove-call", MARGARET, FIRST)
    command(deps, capsys, "remove-call", MARGARET, FIRST, "--yes")
    assert not deps.archive.exists(after) and deps.archive.exists(before)


def test_the_former_name_stays_in_the_briefs_history(deps, capsys):
    command(deps, capsys, "rename", MARGARET, "Eleanor")
    command(deps, capsys, "rename", MARGARET, "Nell")
    brief = read_profile(deps.archive, MARGARET)
    assert brief is not None and brief.name is not None and brief.name.name == "Nell"
    assert [old.name for old in brief.earlier_names] == ["Eleanor", "Margaret"]
    assert "Margaret" not in what_the_agent_hears(deps) and "Eleanor" not in what_the_agent_hears(deps)


@pytest.mark.parametrize("text", ["", "   ", "x" * 4_001])
def test_memory_edit_refuses_an_empty_or_oversized_text(deps, capsys, text):
    record = deps.memory.list_all(MARGARET)[0]
    code = operator_commands.run(
        operator_commands.parse(["memory", "edit", MARGARET, record.id, text, "--yes"]), deps
    )
    assert code == 2 and "1 to 4,000 characters" in capsys.readouterr().out
    assert any(r.text == record.text for r in deps.memory.list_all(MARGARET))
    assert not deps.archive.exists(corrections_key(MARGARET))


def test_memories_lists_each_memorys_id(deps, capsys):
    out = command(deps, capsys, "memories", MARGARET)
    assert all(f"- {record.id} " in out for record in deps.memory.list_all(MARGARET))


def test_export_names_its_file_from_a_number_in_any_format_and_refuses_a_stranger(
    deps, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    argv = ["export", "+1 (555) 010-0142"]
    assert routed_argv(operator_commands.parse(argv), argv)[-1] == str(
        tmp_path / "agentic-memory-15550100142.zip"
    )
    command(deps, capsys, *argv)
    assert (tmp_path / "agentic-memory-15550100142.zip").stat().st_size > 0
    code = operator_commands.run(operator_commands.parse(["export", "+15550100999"]), deps)
    assert code == 1 and "nothing is kept about +15550100999" in capsys.readouterr().out
    assert not (tmp_path / "agentic-memory-15550100999.zip").exists()


def test_a_change_under_the_other_memory_scope_is_refused(per_agent, capsys):
    # Found by a newcomer: without the runtime's MEMORY_SCOPE in the shell, rename wrote a brief for all
    # agents beside the per-agent one the runtime reads, and said "brief rebuilt"
    caller_scope = Dependencies(
        settings=Settings.from_environment({"AGENTIC_MEMORY_HOME": str(per_agent.settings.home)}),
        memory=per_agent.memory,
        archive=per_agent.archive,
    )
    code = operator_commands.run(operator_commands.parse(["rename", MARGARET, "Eleanor"]), caller_scope)
    out = capsys.readouterr().out
    assert code == 2 and "MEMORY_SCOPE=caller_and_agent" in out and "nothing changed" in out
    assert not per_agent.archive.exists(archive_keys.profile_key(MARGARET))
    assert not per_agent.archive.exists(corrections_key(MARGARET))


def test_a_former_name_that_is_a_month_is_replaced_only_where_it_names_the_caller():
    from agentic_memory.corrections import renamed

    said = (
        "June booked a grooming before the wedding in June; she pays on the 3rd of June or June 5. Hi June!"
    )
    assert renamed(said, [("June", "Ann")]) == (
        "Ann booked a grooming before the wedding in June; she pays on the 3rd of June or June 5. Hi Ann!"
    )


def test_a_name_a_later_call_gives_is_heard_as_the_operators(deps, capsys):
    # Found by a newcomer: after the correction a call collected first_name "Maggie" and its summary
    # said "Maggie …": memory_context and memory_summary carried Maggie
    command(deps, capsys, "rename", MARGARET, "Eleanor")
    payload = load_fixture("transcription_returning_caller")
    data = payload["data"]
    data["conversation_id"] = "conv_maggie000001"
    data["metadata"]["start_time_unix_secs"] += 86400
    data["analysis"]["transcript_summary"] = "Maggie Thompson asked to move Maggie's appointment for Biscuit."
    data["transcript"][1]["message"] = (
        "Hello Ada, it's Maggie Thompson again. Biscuit's check-up went very well."
    )
    data["analysis"]["data_collection_results"] = {
        "first_name": {"data_collection_id": "first_name", "value": "Maggie", "rationale": "She said so."}
    }
    body = json.dumps(payload).encode()
    key = archive_key_for(parse_event(body), deps.settings)
    deps.archive.put_new(key, body, "application/json")
    process_archived_event(key, deps.settings, deps.archive, deps.memory)
    brief = read_profile(deps.archive, MARGARET)
    answer = answer_from_brief(MARGARET, brief, deps.settings, datetime.now(UTC)).to_wire()
    variables = answer["dynamic_variables"]
    assert variables["caller_name"] == "Eleanor"
    assert "Maggie" not in variables["memory_summary"] and "Maggie" not in variables["memory_context"]
    assert "Eleanor Thompson asked to move Eleanor's appointment for Biscuit" in variables["memory_summary"]
    # And neither the search tool (the recall index) nor the memories of that call say Maggie
    assert "Maggie" not in searched(deps, "check-up went very well appointment Maggie")
    assert not [r.text for r in deps.memory.list_all(MARGARET) if "Maggie" in r.text]


def test_an_unattributed_copy_of_a_removed_call_does_not_come_back(deps, capsys):
    # Found by a newcomer: a copy of the removed call that named nobody was moved back to the caller
    # by `replay --caller` (found theirs by the pre-call's call sid) and exported
    command(deps, capsys, "remove-call", MARGARET, FIRST, "--yes")
    copy = archive_keys.unattributed_transcription_key(FIRST)
    deps.archive.put(copy, fixture_bytes("transcription_twilio_inbound"), "application/json")
    report = operations.replay([copy], deps.settings, deps.archive, deps.memory, owner=MARGARET)
    assert [r.skipped for r in report.processed] == ["removed_by_operator"]
    assert not deps.archive.exists(copy)
    assert not deps.archive.exists(archive_keys.transcription_key(MARGARET, FIRST))


def test_export_refuses_a_folder_or_a_missing_folder(deps, capsys, tmp_path):
    targets = (
        (str(tmp_path), "is a folder"),
        (str(tmp_path / "missing" / "x.zip"), "does not exist"),
        (f"{tmp_path / 'missing'}/", "names a folder"),
    )
    for target, said in targets:
        code = operator_commands.run(operator_commands.parse(["export", MARGARET, "-o", target]), deps)
        assert code == 2 and said in capsys.readouterr().out
    assert not (tmp_path / "missing").exists()


def test_memory_edit_counts_a_crlf_as_one_character_as_the_console_does(deps, capsys):
    record = deps.memory.list_all(MARGARET)[0]
    text = ("x" * 99 + "\r\n") * 39 + "x" * 100  # 4,000 characters, its 39 line breaks counted once
    command(deps, capsys, "memory", "edit", MARGARET, record.id, text, "--yes")
    assert text.replace("\r\n", "\n") in [r.text for r in deps.memory.list_all(MARGARET)]
