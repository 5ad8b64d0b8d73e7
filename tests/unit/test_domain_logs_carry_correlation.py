"""Domain logs carry the invocation's correlation keys (issue 13, item 4).

The domain and its adapters log through plain ``logging`` loggers; during an invocation their lines come
out as the invoked entry point's Powertools JSON lines, with its correlation id (the API Gateway request
id) and the keys the handler appended, once each, also when the domain logs from a background thread,
and also when entry points run side by side in one process, as in the local runtime.
"""

import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import api_event, lambda_context, signed_headers, sqs_event

from agentic_memory.agent_numbers import numbers_key
from agentic_memory.archive_keys import profile_key
from agentic_memory.errors import ArchiveUnavailable, ConfigurationError
from devtools.fixtures import fixture_bytes, load_fixture
from services.conversation_initiation import handler as conversation_initiation
from services.post_call import handler as post_call
from services.post_call import processor
from services.search_memory import handler as search_memory

HANDLERS = (conversation_initiation, post_call, processor, search_memory)


class Capture:
    """Everything the entry points' Powertools Loggers wrote, and the records the root logger got."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.root_records: list[logging.LogRecord] = []

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line.strip()]

    def lines_saying(self, text: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if text in str(line.get("message"))]


class _RootRecords(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def capture() -> Iterator[Capture]:
    captured = Capture()
    # Each Logger writes to the stdout it found at import; for this test, to one buffer.
    handlers = [module.logger.registered_handler for module in HANDLERS]
    streams = [(handler, handler.setStream(captured.stream)) for handler in handlers]  # type: ignore[attr-defined]
    root_handler = _RootRecords(captured.root_records)
    logging.getLogger().addHandler(root_handler)
    try:
        yield captured
    finally:
        logging.getLogger().removeHandler(root_handler)
        for handler, stream in streams:
            handler.setStream(stream)


def initiation_event(keys: dict[str, str]) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "X-Workspace-Key": keys["workspace"]}
    return api_event("POST", "/client-data", fixture_bytes("precall_twilio_inbound"), headers)


def test_a_domain_line_is_the_invocations_json_with_its_correlation_id_and_keys(deps, keys, capture):
    # Given an archive whose learned agent numbers are unreadable (read in a background thread)
    # and which refuses the pre-call's writes (waited for in the handler's thread)
    request = load_fixture("precall_twilio_inbound")
    deps.archive.objects[numbers_key(request["agent_id"])] = b"{not json"

    def refused(key: str, body: bytes, content_type: str) -> None:
        raise ArchiveUnavailable("S3 PutObject failed: InternalError (HTTP 500)")

    deps.archive.put = refused
    # When the pre-call arrives
    event = initiation_event(keys)
    response = conversation_initiation.lambda_handler(event, lambda_context("client-data"))
    # Then it is answered, and each domain line is one JSON line of the pre-call's Logger, with the
    # request's correlation id, the call's ids and the module that wrote it
    assert response["statusCode"] == 200
    expected = {
        "service": "client-data",
        "correlation_id": event["requestContext"]["requestId"],
        "conversation_id": request["conversation_id"],
        "agent_id": request["agent_id"],
    }
    for message, module, times in [
        ("the learned agent numbers are unreadable", "agentic_memory.agent_numbers", 1),
        # The received event and the answer: two writes refused.
        ("pre-call archive write failed: ArchiveUnavailable", "agentic_memory.conversation_initiation", 2),
    ]:
        lines = capture.lines_saying(message)
        assert len(lines) == times, message
        for line in lines:
            assert line["level"] == "WARNING"
            assert line["logger"] == module
            assert {key: line.get(key) for key in expected} == expected, message
    # And no domain line also went to the root logger (no duplicates)
    assert [r.name for r in capture.root_records if r.name.startswith(("agentic_memory", "services"))] == []


def test_entry_points_side_by_side_each_write_their_own_keys(deps, keys, capture, monkeypatch):
    # Given two entry points invoked at the same time in one process, each failing to configure itself
    # (services.http_edge logs it), both in flight when they log
    both_in_flight = threading.Barrier(2, timeout=10)

    def misconfigured(setting: str) -> Any:
        def dependencies() -> None:
            both_in_flight.wait()
            raise ConfigurationError(f"set {setting}")

        return dependencies

    monkeypatch.setattr(search_memory, "search_memory_dependencies", misconfigured("ELEVENLABS_TOOL_KEY"))
    monkeypatch.setattr(post_call, "post_call_dependencies", misconfigured("ELEVENLABS_HMAC_KEY"))
    # And a pre-call answered just before, whose keys must not leak into them
    conversation_initiation.lambda_handler(initiation_event(keys), lambda_context("client-data"))
    search = api_event("GET", "/retrieve", query="query=dog")
    event = api_event("POST", "/post-call", b"{}", {"Content-Type": "application/json"})
    answers: dict[str, Any] = {}
    threads = [
        threading.Thread(
            target=lambda: answers.update(search=search_memory.lambda_handler(search, lambda_context()))
        ),
        threading.Thread(
            target=lambda: answers.update(post=post_call.lambda_handler(event, lambda_context()))
        ),
    ]
    # When both run
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    # Then each answers 500 misconfigured, and each edge line is its own entry point's, once
    assert answers["search"]["statusCode"] == answers["post"]["statusCode"] == 500
    lines = capture.lines_saying("the function is misconfigured")
    by_service = {line["service"]: line for line in lines}
    assert len(lines) == len(by_service) == 2
    assert by_service["retrieve"]["correlation_id"] == search["requestContext"]["requestId"]
    assert by_service["post-call"]["correlation_id"] == event["requestContext"]["requestId"]
    assert "ELEVENLABS_TOOL_KEY" in by_service["retrieve"]["message"]
    assert "ELEVENLABS_HMAC_KEY" in by_service["post-call"]["message"]
    assert all(line["logger"] == "services.http_edge" for line in lines)
    assert all("conversation_id" not in line and "agent_id" not in line for line in lines)


def test_outside_an_invocation_a_domain_line_goes_where_it_went_before(capture):
    # Given no invocation running, when a domain module logs, then the root logger's handlers get it
    logging.getLogger("agentic_memory.retention").warning("a line outside any invocation")
    assert [r.getMessage() for r in capture.root_records] == ["a line outside any invocation"]
    assert capture.lines() == []


def test_the_level_of_the_invocations_logger_applies(deps, keys, capture, monkeypatch):
    # Given the pre-call's Logger at ERROR (LOG_LEVEL=ERROR), when a domain module warns during an invocation
    monkeypatch.setattr(conversation_initiation.logger._logger, "level", logging.ERROR)
    deps.archive.objects[numbers_key(load_fixture("precall_twilio_inbound")["agent_id"])] = b"{not json"
    conversation_initiation.lambda_handler(initiation_event(keys), lambda_context("client-data"))
    # Then the warning is not written
    assert capture.lines_saying("the learned agent numbers are unreadable") == []


def test_a_processed_events_domain_lines_carry_its_message_id(deps, keys, capture):
    # Given an archived transcription whose caller's brief is unreadable
    body = fixture_bytes("transcription_twilio_inbound")
    post_call.lambda_handler(
        api_event("POST", "/post-call", body, signed_headers(body, keys["hmac"])), lambda_context()
    )
    [key] = [k for k in deps.archive.objects if k.startswith("post-call/") and k.endswith(".json")]
    deps.archive.objects[profile_key(key.split("/")[1])] = b"{not json"
    # When the processor takes the message naming it
    event = sqs_event(key)
    processor.lambda_handler(event, lambda_context("post-call-processor", 60))
    # Then the domain's warning is the processor's JSON line, its correlation id the SQS message's id,
    # as is the processor's own line that names the conversation
    [warning] = capture.lines_saying("an unreadable caller brief is rebuilt from the archive")
    [processed] = capture.lines_saying("post-call event processed")
    message_id = event["Records"][0]["messageId"]
    assert (warning["service"], warning["logger"]) == ("post-call-processor", "agentic_memory.profile_store")
    assert warning["correlation_id"] == processed["correlation_id"] == message_id
    assert (
        processed["conversation_id"]
        == load_fixture("transcription_twilio_inbound")["data"]["conversation_id"]
    )
