"""Audio webhooks over the request limit: refused with 413, recorded, and fetched from ElevenLabs."""

import argparse
import base64
import json
import secrets
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agentic_memory.adapters.elevenlabs_audio import ElevenLabsAudioClient
from agentic_memory.fakes import InMemoryArchive, InMemoryMemoryStore
from agentic_memory.local import dead_letter
from agentic_memory.local.fixtures import load_fixture
from agentic_memory.local.operator_commands import replay_events
from agentic_memory.local.runtime import LocalRuntime, build_runtime
from agentic_memory.settings import Settings

pytestmark = pytest.mark.integration
AUDIO = load_fixture("audio")["data"]
MP3 = base64.b64decode(AUDIO["full_audio"])
MP3_KEY = f"post-call/audio-only/{AUDIO['agent_id']}/{AUDIO['conversation_id']}.mp3"


class ElevenLabsStub(ThreadingHTTPServer):
    """Serves the conversation audio endpoint for one conversation, for one API key."""

    def __init__(self, api_key: str) -> None:
        super().__init__(("127.0.0.1", 0), _AudioHandler)
        self.api_key = api_key
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _AudioHandler(BaseHTTPRequestHandler):
    server: ElevenLabsStub

    def do_GET(self) -> None:  # noqa: N802
        self.server.requests.append(self.path)
        wanted = f"/v1/convai/conversations/{AUDIO['conversation_id']}/audio"
        status, body = (200, MP3) if self.path == wanted else (404, b"{}")
        if self.headers.get("xi-api-key") != self.server.api_key:
            status, body = 401, b"{}"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def elevenlabs() -> Iterator[ElevenLabsStub]:
    stub = ElevenLabsStub(api_key=f"xi_test_{secrets.token_hex(8)}")
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    yield stub
    stub.shutdown()
    stub.server_close()


def start(settings: Settings, audio_source=None) -> LocalRuntime:
    runtime = build_runtime(
        settings,
        port=0,
        memory=InMemoryMemoryStore(),
        archive=InMemoryArchive(),
        audio_source=audio_source,
        retry_backoff_seconds=(0.05, 0.1, 0.2),
    )
    runtime.start_in_background()
    return runtime


def send_oversized_audio(runtime: LocalRuntime) -> tuple[int, dict]:
    """Announce a 7 MB audio event and send only its first bytes, as a client cut off at 413 would."""
    head = json.dumps(
        {
            "type": "post_call_audio",
            "event_timestamp": 1763000000,
            "data": {
                "agent_id": AUDIO["agent_id"],
                "conversation_id": AUDIO["conversation_id"],
                "full_audio": "",
            },
        }
    )
    prefix = head[: head.rindex('""') + 1].encode() + b"SUQz" * 512
    port = runtime.server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            b"POST /post-call HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {7 * 1024 * 1024}\r\n\r\n".encode()
            + prefix
        )
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            reply += chunk
    status = int(reply.split(b" ", 2)[1])
    return status, json.loads(reply.split(b"\r\n\r\n", 1)[1])


def test_oversized_audio_is_refused_then_fetched_from_elevenlabs(settings, elevenlabs):
    runtime = start(settings, ElevenLabsAudioClient(elevenlabs.api_key, elevenlabs.url))
    try:
        status, body = send_oversized_audio(runtime)
        assert status == 413
        assert body["error"] == "payload_too_large"
        assert runtime.queue.wait_until_idle(timeout=10)
        assert runtime.dependencies.archive.get(MP3_KEY) == MP3
        assert elevenlabs.requests == [f"/v1/convai/conversations/{AUDIO['conversation_id']}/audio"]
    finally:
        runtime.close()


def test_without_an_api_key_the_record_waits_in_the_dead_letter_folder_for_a_replay(settings, elevenlabs):
    runtime = start(settings)
    try:
        assert send_oversized_audio(runtime)[0] == 413
        assert runtime.queue.wait_until_idle(timeout=10)
        folder = Path(settings.home, "dead-letter")
        assert dead_letter.parked_keys(folder) == [
            f"post-call/oversized-audio/{AUDIO['agent_id']}/{AUDIO['conversation_id']}.json"
        ]
        assert not runtime.dependencies.archive.exists(MP3_KEY)
        # When the operator configures the key and replays the dead-letter queue
        deps = runtime.dependencies
        fixed = type(deps)(
            settings=deps.settings,
            memory=deps.memory,
            archive=deps.archive,
            audio_source=ElevenLabsAudioClient(elevenlabs.api_key, elevenlabs.url),
        )
        args = argparse.Namespace(
            dead_letter=True,
            dead_letter_queue_url=None,
            caller=None,
            conversation=None,
            since=None,
            until=None,
        )
        assert replay_events(args, fixed) == 0
        assert deps.archive.get(MP3_KEY) == MP3
        assert dead_letter.parked_keys(folder) == []
    finally:
        runtime.close()


def test_a_replayed_transcription_fetches_audio_that_never_arrived(settings, elevenlabs):
    # Given an archived transcription of a call with audio, whose audio webhook never got through
    from agentic_memory import operations

    archive, memory = InMemoryArchive(), InMemoryMemoryStore()
    event = load_fixture("transcription_twilio_inbound")
    event["data"]["agent_id"], event["data"]["conversation_id"] = AUDIO["agent_id"], AUDIO["conversation_id"]
    caller = event["data"]["metadata"]["phone_call"]["external_number"]
    key = f"post-call/{caller}/{AUDIO['conversation_id']}.json"
    archive.put(key, json.dumps(event).encode(), "application/json")
    # When the operator replays the conversation with an ElevenLabs key configured
    source = ElevenLabsAudioClient(elevenlabs.api_key, elevenlabs.url)
    report = operations.replay([key], settings, archive, memory, audio_source=source)
    # Then the memories and the audio are stored
    assert report.failed == {}
    assert archive.get(MP3_KEY) == MP3
    assert memory.list_all(caller)
