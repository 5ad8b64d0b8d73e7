"""``agentic-memory memories | forget | replay`` on a local runtime's data, after the runtime stops."""

import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from conftest import RunningRuntime
from helpers import run_cli

from agentic_memory.signature import HEADER, sign
from devtools.fixtures import fixture_bytes, load_fixture

pytestmark = pytest.mark.integration
CALLER = load_fixture("transcription_twilio_inbound")["data"]["metadata"]["phone_call"]["external_number"]


def deliver(runtime: RunningRuntime, fixture: str) -> None:
    body = fixture_bytes(fixture)
    response = httpx.post(
        f"{runtime.url}/post-call",
        content=body,
        timeout=10,
        headers={HEADER: sign(body, runtime.keys["hmac"])},
    )
    assert response.status_code == 200


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(home, *args)


def test_a_caller_can_be_listed_and_forgotten_with_their_audio(fresh_runtime):
    runtime = fresh_runtime
    # Given a call whose audio arrived before its transcription
    deliver(runtime, "audio")
    deliver(runtime, "transcription_twilio_inbound")
    archive = runtime.home / "archive"
    audio = load_fixture("audio")["data"]
    mp3 = archive / "post-call" / "audio-only" / audio["agent_id"] / f"{audio['conversation_id']}.mp3"
    deadline = time.monotonic() + 20
    while not (mp3.is_file() and b'"returning_caller":"yes"' in _initiate_conversation(runtime)):
        assert time.monotonic() < deadline, runtime.log()
        time.sleep(0.2)
    runtime.stop()

    # When the operator lists the caller's memories
    listed = cli(runtime.home, "memories", CALLER, "--json")
    assert listed.returncode == 0, listed.stderr
    memories = json.loads(listed.stdout)
    assert {m["metadata"]["type"] for m in memories} == {"factual", "semantic"}

    # And asks to forget the caller without confirming: everything is listed, nothing erased
    dry_run = cli(runtime.home, "forget", CALLER)
    assert dry_run.returncode == 0, dry_run.stderr
    assert "nothing erased" in dry_run.stdout
    assert f"{audio['conversation_id']}.mp3" in dry_run.stdout
    assert f"client-data/{CALLER}/" in dry_run.stdout
    assert mp3.is_file()

    # Then with --yes the memories, transcripts, pre-call exchanges and audio are gone
    erased = cli(runtime.home, "forget", CALLER, "--yes")
    assert erased.returncode == 0, erased.stderr
    assert not mp3.exists()
    assert not any(CALLER in str(p) for p in archive.rglob("*"))
    assert json.loads(cli(runtime.home, "memories", CALLER, "--json").stdout) == []


def test_replay_of_a_conversation_is_idempotent(fresh_runtime):
    runtime = fresh_runtime
    deliver(runtime, "transcription_twilio_inbound")
    deadline = time.monotonic() + 20
    while b'"returning_caller":"yes"' not in _initiate_conversation(runtime):
        assert time.monotonic() < deadline, runtime.log()
        time.sleep(0.2)
    runtime.stop()
    before = json.loads(cli(runtime.home, "memories", CALLER, "--json").stdout)
    conversation = load_fixture("transcription_twilio_inbound")["data"]["conversation_id"]
    replayed = cli(runtime.home, "replay", "--conversation", conversation)
    assert replayed.returncode == 0, replayed.stderr
    assert "[1/1]" in replayed.stdout and "already_processed" in replayed.stdout
    after = json.loads(cli(runtime.home, "memories", CALLER, "--json").stdout)
    assert len(after) == len(before)


def test_commands_take_an_unsafe_caller_id_as_its_encoded_key(tmp_path):
    # The same key the webhooks file such an id under (issue 11): nothing outside the archive is named.
    (tmp_path / "archive").mkdir()  # local data (a folder without any is refused: test_runtime_rules.py)
    result = cli(tmp_path, "forget", "../../etc")
    assert result.returncode == 0, result.stderr
    assert "enc__2E_2E_2F_2E_2E_2Fetc: 0 memories, 0 archived objects" in result.stdout


def _initiate_conversation(runtime: RunningRuntime) -> bytes:
    return httpx.post(
        f"{runtime.url}/client-data",
        content=fixture_bytes("precall_twilio_inbound"),
        headers={"X-Workspace-Key": runtime.keys["workspace"]},
        timeout=10,
    ).content
