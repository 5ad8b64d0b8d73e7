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
from agentic_memory.settings import Settings
from agentic_memory.wiring import Dependencies, use_dependencies
from devtools.fakes import InMemoryArchive, InMemoryMemoryStore
from devtools.fixtures import load_fixture
from local_runtime import dead_letter
from local_runtime.events import sqs_event_for_message, sqs_event_for_object
from local_runtime.lambda_context import LocalLambdaContext
from local_runtime.operator_commands import replay_events
from local_runtime.runtime import LocalRuntime, build_runtime
from services.post_call.processor import lambda_handler

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
        retry_first_delay_seconds=0.02,
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
    from local_runtime import operations

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


# --- long calls: the audio webhook never came, so the processor fetches it after a delay -----------


def transcription_of_the_audio_call() -> tuple[str, bytes]:
    """An archived transcription of the conversation the stub has audio for (no ``has_audio``, as
    real deliveries carry none), and its key."""
    event = load_fixture("transcription_twilio_inbound")
    event["data"]["agent_id"], event["data"]["conversation_id"] = AUDIO["agent_id"], AUDIO["conversation_id"]
    event["data"].pop("has_audio", None)
    caller = event["data"]["metadata"]["phone_call"]["external_number"]
    return f"post-call/{caller}/{AUDIO['conversation_id']}.json", json.dumps(event).encode()


@pytest.mark.parametrize("webhook_came", [False, True], ids=["no audio webhook", "audio webhook came"])
def test_a_long_calls_audio_is_fetched_after_the_delay_unless_its_webhook_came(
    settings, elevenlabs, webhook_came
):
    # Given a runtime with an ElevenLabs key and a one-second audio fetch delay
    quick = settings.model_copy(update={"audio_fetch_delay_seconds": 1})
    runtime = start(quick, ElevenLabsAudioClient(elevenlabs.api_key, elevenlabs.url))
    try:
        # When a transcription is archived, and its audio webhook either never arrives (over the 6 MB
        # limit) or does
        key, body = transcription_of_the_audio_call()
        runtime.dependencies.archive.put(key, body, "application/json")
        if webhook_came:
            audio_event = json.dumps(load_fixture("audio")).encode()
            audio_key = f"post-call/audio/{AUDIO['agent_id']}/{AUDIO['conversation_id']}.json"
            runtime.dependencies.archive.put(audio_key, audio_event, "application/json")
        # Then after the delay the MP3 is archived: fetched once from ElevenLabs without any replay,
        # or the webhook's own, with ElevenLabs never asked
        assert runtime.queue.wait_until_idle(timeout=15)
        assert runtime.dependencies.archive.get(MP3_KEY) == MP3
        fetched = [f"/v1/convai/conversations/{AUDIO['conversation_id']}/audio"]
        assert elevenlabs.requests == ([] if webhook_came else fetched)
    finally:
        runtime.close()


class SentMessages:
    """``DelayedMessages`` that keeps what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[dict, int]] = []

    def send(self, body: str, delay_seconds: int) -> None:
        self.sent.append((json.loads(body), delay_seconds))


def processor_deps(settings: Settings, archive, audio_source, messages=None):
    return Dependencies(
        settings=settings,
        memory=InMemoryMemoryStore(),
        archive=archive,
        audio_source=audio_source,
        delayed_messages=messages,
    )


def process(event: dict, deps) -> dict:
    use_dependencies(deps)
    try:
        return lambda_handler(event, LocalLambdaContext("post-call-processor", 60))
    finally:
        use_dependencies(None)


def test_the_processor_schedules_the_check_then_handles_the_delayed_message(settings, elevenlabs):
    # Given the processor with an ElevenLabs key and its queue
    archive, messages = InMemoryArchive(), SentMessages()
    deps = processor_deps(
        settings, archive, ElevenLabsAudioClient(elevenlabs.api_key, elevenlabs.url), messages
    )
    key, body = transcription_of_the_audio_call()
    archive.put(key, body, "application/json")
    # When the S3 notification of the transcription is processed
    assert process(sqs_event_for_object("bucket", key), deps) == {"batchItemFailures": []}
    # Then the processor sent itself one check, delayed by the configured 600 s
    check = {
        "type": "fetch_audio_if_missing",
        "agent_id": AUDIO["agent_id"],
        "conversation_id": AUDIO["conversation_id"],
    }
    assert messages.sent == [(check, 600)]
    assert elevenlabs.requests == []
    # When that message comes back, twice (SQS delivers at least once)
    for _ in range(2):
        assert process(sqs_event_for_message(json.dumps(check)), deps) == {"batchItemFailures": []}
    # Then the audio was fetched once and archived
    assert archive.get(MP3_KEY) == MP3
    assert len(elevenlabs.requests) == 1


def test_a_conversation_elevenlabs_has_no_audio_for_is_no_failure(settings, elevenlabs):

    deps = processor_deps(
        settings, InMemoryArchive(), ElevenLabsAudioClient(elevenlabs.api_key, elevenlabs.url)
    )
    check = {"type": "fetch_audio_if_missing", "agent_id": "agent_quiet", "conversation_id": "conv_no_audio"}
    # When the check of a conversation ElevenLabs answers 404 for comes
    answer = process(sqs_event_for_message(json.dumps(check)), deps)
    # Then nothing is archived and the message is not retried into the dead-letter queue
    assert answer == {"batchItemFailures": []}
    assert not deps.archive.exists("post-call/audio-only/agent_quiet/conv_no_audio.mp3")


def test_without_an_api_key_nothing_is_scheduled(settings):
    archive, messages = InMemoryArchive(), SentMessages()
    deps = processor_deps(settings, archive, None, messages)
    key, body = transcription_of_the_audio_call()
    archive.put(key, body, "application/json")
    assert process(sqs_event_for_object("bucket", key), deps) == {"batchItemFailures": []}
    assert messages.sent == []
