"""The whole product on this machine: the local runtime over HTTP on loopback, driven with the
recorded ElevenLabs payloads, with the embedded Mem0 engine and the filesystem archive."""

import http.client
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import mutagen.mp3
import pytest
from helpers import eventually, run_cli

from agentic_memory.signature import HEADER, sign
from devtools.fixtures import load_fixture
from local_runtime.sender import rewrite

pytestmark = pytest.mark.integration


def body_of(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def post_call(runtime, payload: Any, secret: str | None = None) -> httpx.Response:
    body = body_of(payload)
    headers = {"Content-Type": "application/json", HEADER: sign(body, secret or runtime.keys["hmac"])}
    return httpx.post(f"{runtime.url}/post-call", content=body, headers=headers, timeout=10)


def initiate_conversation(runtime, payload: Any, key: str | None = None) -> httpx.Response:
    headers = {"X-Workspace-Key": key or runtime.keys["workspace"]}
    return httpx.post(f"{runtime.url}/client-data", content=body_of(payload), headers=headers, timeout=10)


def search(runtime, user_id: str, query: str) -> list[str]:
    response = httpx.get(f"{runtime.url}/retrieve", params={"query": query, "user_id": user_id}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["memories"]


def as_call(fixture: str, caller: str, conversation_id: str) -> Any:
    payload = load_fixture(fixture)
    old = (
        payload["data"]["metadata"]["phone_call"]["external_number"]
        if "data" in payload
        else payload["caller_id"]
    )
    return rewrite(payload, caller, conversation_id, old)


def test_a_caller_is_remembered_from_one_call_to_the_next(runtime):
    # Given a signed transcription of a first call from a new caller
    transcription = load_fixture("transcription_twilio_inbound")
    caller = transcription["data"]["metadata"]["phone_call"]["external_number"]
    pre = load_fixture("precall_twilio_inbound")
    assert pre["caller_id"] == caller
    assert initiate_conversation(runtime, pre).json()["dynamic_variables"]["returning_caller"] == "no"
    # When it is delivered
    response = post_call(runtime, transcription)
    # Then it is acknowledged with exactly 200 {"status": "ok"}
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}

    # And shortly after, the next pre-call knows the caller by name
    def known() -> dict | None:
        variables = initiate_conversation(runtime, pre).json()["dynamic_variables"]
        return variables if variables["returning_caller"] == "yes" else None

    variables = eventually(known)
    assert variables, runtime.log()
    assert variables["caller_name"] == "Margaret"
    assert int(variables["memory_count"]) > 0
    answer = initiate_conversation(runtime, pre).json()
    assert "Margaret" in answer["conversation_config_override"]["agent"]["first_message"]
    # And the search tool finds facts from that call
    assert any("Biscuit" in memory for memory in search(runtime, caller, "what is the name of the dog"))


def test_a_repeated_delivery_adds_no_memory(runtime):
    payload = as_call("transcription_twilio_inbound", "+15550100191", "conv_repeat_0001")
    assert post_call(runtime, payload).status_code == 200
    # Processing is done when the call's recall index is written (after its memories and brief)
    index = runtime.home / "archive" / "recall" / "+15550100191.sqlite.gz"
    assert eventually(index.exists)
    before = search(runtime, "+15550100191", "dog named Biscuit")
    # When ElevenLabs delivers the same event again
    for _ in range(2):
        assert post_call(runtime, payload).status_code == 200
    time.sleep(1.0)  # room for any (wrong) second processing to land before looking
    after = search(runtime, "+15550100191", "dog named Biscuit")
    assert sorted(after) == sorted(before)
    assert len(after) == len(set(after))


def test_an_outbound_call_is_remembered_under_the_person_called(runtime):
    transcription = load_fixture("transcription_twilio_outbound")
    person = transcription["data"]["metadata"]["phone_call"]["external_number"]
    agent_number = transcription["data"]["metadata"]["phone_call"]["agent_number"]
    assert post_call(runtime, transcription).status_code == 200
    assert eventually(lambda: search(runtime, person, "what did we talk about"))
    assert search(runtime, agent_number, "what did we talk about") == []
    pre = load_fixture("precall_twilio_outbound")
    assert pre["called_number"] == person
    variables = initiate_conversation(runtime, pre).json()["dynamic_variables"]
    assert variables["caller_id"] == person
    assert variables["returning_caller"] == "yes"


def test_audio_lands_as_a_playable_mp3_at_the_design_key(runtime):
    audio = load_fixture("audio")
    assert post_call(runtime, audio).status_code == 200
    data = audio["data"]
    mp3 = Path(
        runtime.home, "archive", "post-call", "audio-only", data["agent_id"], f"{data['conversation_id']}.mp3"
    )
    assert eventually(mp3.is_file), runtime.log()
    info = mutagen.mp3.MP3(mp3).info
    assert info.length > 0
    assert info.sample_rate > 0


def test_wrong_keys_and_bad_signatures_are_401(runtime):
    pre = load_fixture("precall_twilio_inbound")
    assert initiate_conversation(runtime, pre, key="wsk_wrong").status_code == 401
    no_key = httpx.post(f"{runtime.url}/client-data", content=body_of(pre), timeout=10)
    assert no_key.status_code == 401
    assert no_key.json()["error"] == "unauthorized"
    transcription = load_fixture("transcription_twilio_inbound")
    assert post_call(runtime, transcription, secret="whsec_not_ours").status_code == 401
    body = body_of(transcription)
    stale = {HEADER: sign(body, runtime.keys["hmac"], int(time.time()) - 7200)}
    assert httpx.post(f"{runtime.url}/post-call", content=body, headers=stale, timeout=10).status_code == 401
    unsigned = httpx.post(f"{runtime.url}/post-call", content=body, timeout=10)
    assert unsigned.status_code == 401
    assert set(unsigned.json()) == {"error", "detail"}


def test_malformed_input_gets_a_json_400_and_nothing_crashes(runtime):
    headers = {"X-Workspace-Key": runtime.keys["workspace"]}
    for body in (b"{", b"null"):
        response = httpx.post(f"{runtime.url}/client-data", content=body, headers=headers, timeout=10)
        assert response.status_code == 400, body
        assert set(response.json()) == {"error", "detail"}
    # A call must start whatever ids it carries (issue 11): no caller is neutral, an unsafe one encoded.
    for body in (b'{"agent_id": "agent_x"}', b'{"agent_id": "a", "caller_id": "../../x"}'):
        response = httpx.post(f"{runtime.url}/client-data", content=body, headers=headers, timeout=10)
        assert response.status_code == 200, body
    # A signed event is never refused: one whose ids fit no key is kept under post-call/other/.
    bad = body_of({"type": "post_call_transcription", "data": {"agent_id": "a", "conversation_id": "../x"}})
    response = httpx.post(
        f"{runtime.url}/post-call", content=bad, headers={HEADER: sign(bad, runtime.keys["hmac"])}, timeout=10
    )
    assert response.status_code == 200
    assert httpx.get(f"{runtime.url}/health", timeout=5).status_code == 200
    archive = Path(runtime.home, "archive")
    assert not any(".." in str(p) for p in archive.rglob("*"))


def test_a_body_over_the_lambda_limit_is_413_without_being_read(runtime):
    # Given a request that announces 7 MB and sends none of it
    host, port = runtime.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/post-call")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(7 * 1024 * 1024))
    connection.endheaders()
    # Then the runtime answers 413 at once instead of waiting for (or buffering) the body
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["error"] == "payload_too_large"
    connection.close()
    assert httpx.get(f"{runtime.url}/health", timeout=5).status_code == 200


def test_the_send_command_replays_a_fixture(runtime):
    env = {
        "ELEVENLABS_HMAC_KEY": runtime.keys["hmac"],
        "ELEVENLABS_WORKSPACE_KEY": runtime.keys["workspace"],
        "PATH": "/usr/bin:/bin",
    }
    command = [
        sys.executable,
        "-m",
        "local_runtime.cli",
        "send",
        "transcription_sip",
        "--url",
        runtime.url,
        "--conversation-id",
        "conv_sent_by_cli_01",
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "-> 200" in result.stdout
    assert '"status": "ok"' in result.stdout


def test_a_client_sending_a_whole_7_mb_body_reads_the_413(runtime):
    # Given an ordinary HTTP client that sends all of an over-limit body before it reads the answer
    body = b'{"type": "post_call_transcription", "data": {"padding": "' + b"x" * (7 * 1024 * 1024) + b'"}}'
    # When it posts it
    response = httpx.post(
        f"{runtime.url}/post-call", content=body, headers={"Content-Type": "application/json"}, timeout=30
    )
    # Then it gets the runtime's readable 413, not a broken pipe, and the runtime serves the next request
    assert response.status_code == 413
    assert response.json() == {
        "error": "payload_too_large",
        "detail": f"the body exceeds {6 * 1024 * 1024} bytes",
    }
    assert httpx.get(f"{runtime.url}/health", timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("payload", "said"),
    [("no_such_fixture", "no fixture named 'no_such_fixture'"), ("{not_json}", "is not a JSON payload")],
)
def test_send_names_a_payload_it_cannot_load_in_one_line(tmp_path, payload, said):
    # Given a fixture name that does not exist, or a file that is not JSON
    if payload.startswith("{"):
        (tmp_path / "broken.json").write_text(payload)
        payload = str(tmp_path / "broken.json")
    # When it is sent
    result = run_cli(tmp_path, "send", payload, "--url", "http://127.0.0.1:9", timeout=30)
    # Then the command says so in one line and exits 2, without a traceback
    assert result.returncode == 2
    assert said in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_send_without_a_key_says_where_it_looked(tmp_path):
    # Given a home without the runtime's dev keys and no key in the environment
    home = tmp_path / "another-home"
    # When a post-call event is sent
    result = run_cli(home, "send", "transcription_sip", "--url", "http://127.0.0.1:9", timeout=30)
    # Then nothing is sent and one line names the file it looked in and how to point it elsewhere
    assert result.returncode == 2
    assert str(home / "dev-keys.json") in result.stderr
    assert "AGENTIC_MEMORY_HOME" in result.stderr and len(result.stderr.strip().splitlines()) == 1
