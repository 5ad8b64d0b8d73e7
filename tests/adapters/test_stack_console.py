"""``agentic-memory console --stack``: the console on 127.0.0.1 over a stack's bucket (moto's S3 server)
and Mem0 Platform (the emulator), with the Mem0 key read from the stack's SSM parameter (moto's SSM)."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities import parameters

from agentic_memory import archive_keys
from agentic_memory.adapters.mem0_platform import Mem0PlatformStore
from agentic_memory.adapters.s3_archive import S3Archive
from agentic_memory.caller_profile import call_facts
from agentic_memory.elevenlabs.post_call import PostCallTranscription
from agentic_memory.ports import ChatMessage
from agentic_memory.profile_store import record_call
from devtools.fixtures import fixture_bytes, load_fixture
from devtools.mem0_emulator import start_emulator
from local_runtime.cli import main
from local_runtime.console.command import serve_stack_console, stack_environment

pytestmark = pytest.mark.integration
EVENT = load_fixture("transcription_twilio_inbound")
CALLER = EVENT["data"]["metadata"]["phone_call"]["external_number"]
AGENT, CONVERSATION = EVENT["data"]["agent_id"], EVENT["data"]["conversation_id"]
MEM0_KEY = "m0_stack_console_test"


@pytest.fixture
def mem0() -> Iterator[Any]:
    emulator = start_emulator(profile="none", api_keys=[MEM0_KEY])
    yield emulator
    emulator.stop()


def test_the_console_serves_a_stacks_archive_and_mem0_on_loopback(
    s3_archive: S3Archive,
    s3_bucket: str,
    moto_s3_endpoint: str,
    fake_aws_environment: dict[str, str],
    mem0: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3

    # Given a stack's bucket with a caller's call, its audio and brief, their memory in Mem0, and the
    # Mem0 key in the stack's parameter
    s3_archive.put(
        archive_keys.transcription_key(CALLER, CONVERSATION),
        fixture_bytes("transcription_twilio_inbound"),
        "application/json",
    )
    s3_archive.put(archive_keys.audio_key(AGENT, CONVERSATION), b"ID3\x03\x00fake-mp3", "audio/mpeg")
    event = PostCallTranscription.model_validate(EVENT)
    record_call(s3_archive, CALLER, call_facts(event.data, event.event_timestamp, datetime.now(UTC)))
    Mem0PlatformStore(MEM0_KEY, mem0.url).add(
        CALLER, [ChatMessage(role="user", content="Biscuit needs a check-up")], {"type": "factual"}
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_s3_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", moto_s3_endpoint)
    ssm = boto3.session.Session().client("ssm", endpoint_url=moto_s3_endpoint, **fake_aws_environment)
    ssm.put_parameter(Name="/agentic-memory/test/mem0-api-key", Value=MEM0_KEY, Type="SecureString")
    # When the operator opens the console on that stack
    environ = stack_environment(
        {"MEM0_BASE_URL": mem0.url, "AWS_DEFAULT_REGION": "us-east-1"}, "test", s3_bucket, None
    )
    server = serve_stack_console(environ, "csk-test", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=server.url, headers={"X-Console-Key": "csk-test"}) as console:
            listing = console.get("/console")
            page = console.get(f"/console/callers/{CALLER}")
            audio = console.get(f"/console/callers/{CALLER}/calls/{CONVERSATION}.mp3")
    finally:
        server.shutdown()
        server.server_close()
    # Then it listens on loopback only, and shows the stack's caller, memory, call and audio
    assert server.server_address[0] == "127.0.0.1"
    assert CALLER in listing.text
    assert "Biscuit needs a check-up" in page.text and "Check-up booked for Biscuit" in page.text
    assert audio.content == b"ID3\x03\x00fake-mp3"


def test_without_a_bucket_or_pulumi_it_says_how_to_find_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(LookupError, match="pass --bucket"):
        stack_environment({}, "prod", None, None)


def test_the_console_command_says_how_to_name_the_bucket(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no Pulumi CLI to read the stack's outputs from
    monkeypatch.setenv("PATH", "/nonexistent")
    # When the operator opens the console on a stack without --bucket
    status = main(["console", "--stack", "prod"])
    # Then it stops with what to pass
    assert status == 2
    assert "pass --bucket" in capsys.readouterr().err


def test_without_the_pulumi_cli_it_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(LookupError, match=r"^the Pulumi CLI is not installed here, .* pass --bucket"):
        stack_environment({}, "prod", None, None)


def test_without_a_region_it_says_how_to_set_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given AWS credentials but no region anywhere (environment or profile)
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # (Powertools keeps the SSM client an earlier test made, region and all)
    monkeypatch.setattr(parameters.ssm, "DEFAULT_PROVIDERS", {})
    # When the operator opens the console on a stack
    status = main(["console", "--stack", "prod", "--bucket", "agentic-memory-prod-archive-x"])
    # Then it stops with one line that says how to name the region, and no traceback
    err = capsys.readouterr().err
    assert status == 2
    assert err.splitlines() == [
        'agentic-memory console: no AWS region: export AWS_DEFAULT_REGION="$(pulumi config get -s prod '
        'aws:region)" (or AWS_REGION, or use a profile that names one)'
    ]


def test_smoke_against_a_stack_without_a_region_says_how_to_set_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the §7 environment of a stack but no region anywhere
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("S3_BUCKET_NAME", "agentic-memory-dev-archive-x")
    monkeypatch.setenv("MEM0_API_KEY_PARAMETER", "/agentic-memory/dev/mem0-api-key")
    monkeypatch.setattr(parameters.ssm, "DEFAULT_PROVIDERS", {})
    # When the operator runs a command against the stack
    status = main(["memories", "+15550100142"])
    # Then one line says how to name the region, and no traceback
    err = capsys.readouterr().err
    assert status == 2
    assert err.splitlines() == [
        'agentic-memory memories: no AWS region: export AWS_DEFAULT_REGION="$(pulumi config get -s <stack> '
        'aws:region)" (or AWS_REGION, or use a profile that names one)'
    ]
