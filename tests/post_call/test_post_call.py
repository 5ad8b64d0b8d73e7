"""The post-call acknowledgement and the processing entry point, with in-memory ports."""

import base64
import json
import time

import pytest
from helpers import api_event, lambda_context, response_json, signed_headers, sqs_event

from agentic_memory.post_call import process_archived_event
from devtools.fixtures import fixture_bytes, load_fixture
from services.post_call.handler import lambda_handler as post_call
from services.post_call.processor import lambda_handler as process

INBOUND = "transcription_twilio_inbound"


def deliver(body: bytes, headers: dict[str, str]) -> dict:
    return post_call(api_event("POST", "/post-call", body, headers), lambda_context("post-call"))


def caller_of(fixture: str) -> str:
    return load_fixture(fixture)["data"]["metadata"]["phone_call"]["external_number"]


def test_a_signed_transcription_is_archived_then_acknowledged(deps, keys):
    body = fixture_bytes(INBOUND)
    response = deliver(body, signed_headers(body, keys["hmac"]))
    assert response["statusCode"] == 200
    assert response_json(response) == {"status": "ok"}
    conversation_id = load_fixture(INBOUND)["data"]["conversation_id"]
    assert deps.archive.get(f"post-call/{caller_of(INBOUND)}/{conversation_id}.json") == body


def test_processing_stores_a_factual_and_a_semantic_memory(deps, keys):
    body = fixture_bytes(INBOUND)
    deliver(body, signed_headers(body, keys["hmac"]))
    [key] = deps.archive.keys("post-call/")
    assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}
    memories = deps.memory.list_all(caller_of(INBOUND))
    types = {m.metadata["type"] for m in memories}
    assert types == {"factual", "semantic"}
    conversation_id = load_fixture(INBOUND)["data"]["conversation_id"]
    for memory in memories:
        assert memory.metadata["conversation_id"] == conversation_id
        assert {"agent_id", "timestamp", "call_duration_seconds"} <= set(memory.metadata)


def test_a_repeated_delivery_adds_no_memory(deps, keys):
    body = fixture_bytes(INBOUND)
    for _ in range(2):
        assert deliver(body, signed_headers(body, keys["hmac"]))["statusCode"] == 200
    [key] = deps.archive.keys("post-call/")
    process(sqs_event(key), lambda_context())
    count = len(deps.memory.list_all(caller_of(INBOUND)))
    # Even when the queue delivers the same event again, nothing is stored twice.
    assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}
    assert len(deps.memory.list_all(caller_of(INBOUND))) == count


def test_an_outbound_call_is_remembered_under_the_person_called(deps, keys):
    body = fixture_bytes("transcription_twilio_outbound")
    deliver(body, signed_headers(body, keys["hmac"]))
    [key] = deps.archive.keys("post-call/")
    process(sqs_event(key), lambda_context())
    person = caller_of("transcription_twilio_outbound")
    agent_number = load_fixture("transcription_twilio_outbound")["data"]["metadata"]["phone_call"][
        "agent_number"
    ]
    assert key.startswith(f"post-call/{person}/")
    assert deps.memory.list_all(person)
    assert deps.memory.list_all(agent_number) == []


def test_audio_becomes_an_mp3_at_the_design_key(deps, keys):
    body = fixture_bytes("audio")
    assert deliver(body, signed_headers(body, keys["hmac"]))["statusCode"] == 200
    [event_key] = deps.archive.keys("post-call/audio-only/")
    process(sqs_event(event_key), lambda_context())
    data = load_fixture("audio")["data"]
    mp3 = deps.archive.get(f"post-call/audio-only/{data['agent_id']}/{data['conversation_id']}.mp3")
    assert mp3 == base64.b64decode(data["full_audio"])


def test_an_initiation_failure_is_archived_and_stores_no_memory(deps, keys):
    body = fixture_bytes("initiation_failure_twilio")
    assert deliver(body, signed_headers(body, keys["hmac"]))["statusCode"] == 200
    [key] = deps.archive.keys("post-call/initiation-failure/")
    assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}
    assert deps.memory._records == {}


def test_bad_missing_stale_and_replayed_signatures_are_401(deps, keys):
    body = fixture_bytes(INBOUND)
    cases = [
        (body, {}),
        (body, {"ElevenLabs-Signature": "garbage"}),
        (body, signed_headers(body, "whsec_someone_else")),
        (body, signed_headers(body, keys["hmac"], int(time.time()) - 3600)),
        (body, signed_headers(body, keys["hmac"], int(time.time()) + 3600)),
        # a valid signature replayed on a changed body
        (body.replace(b"Margaret", b"Mallory"), signed_headers(body, keys["hmac"])),
    ]
    for sent, headers in cases:
        response = deliver(sent, headers)
        assert response["statusCode"] == 401, headers
        assert response_json(response)["error"] == "unauthorized"
    assert list(deps.archive.keys("")) == []


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b"{not json", "post-call/other/untyped/sha_"),
        (b"[]", "post-call/other/untyped/sha_"),
        (
            json.dumps({"type": "voice_removal_notice", "data": {"conversation_id": "conv_7f3a"}}).encode(),
            "post-call/other/voice_removal_notice/conv_7f3a.json",
        ),
        (
            json.dumps({"type": "post_call_unknown", "data": {}}).encode(),
            "post-call/other/post_call_unknown/sha_",
        ),
        (
            json.dumps(
                {"type": "post_call_transcription", "data": {"agent_id": "a", "conversation_id": "c1"}}
            )
            .replace('"agent_id": "a", ', "")
            .encode(),
            "post-call/other/post_call_transcription/c1.json",
        ),
        (
            json.dumps({"type": "../../x y", "data": {"conversation_id": "conv/../../z"}}).encode(),
            "post-call/other/enc__2E_2E_2F_2E_2E_2Fx_20y/enc_conv_2F_2E_2E_2F_2E_2E_2Fz.json",
        ),
    ],
    ids=["not-json", "not-an-object", "voice-removal", "unknown-type", "invalid-shape", "unsafe-ids"],
)
def test_every_signed_event_is_archived_and_answered_200_but_only_known_types_are_processed(
    deps, keys, body, key
):
    # Given a correctly signed event of a type we do not process, or a shape we cannot read
    response = deliver(body, signed_headers(body, keys["hmac"]))

    # Then it is answered 200 and kept under post-call/other/, byte for byte
    assert response["statusCode"] == 200
    [archived] = deps.archive.keys("post-call/")
    assert archived.startswith(key)
    assert deps.archive.get(archived) == body
    # And processing skips it without failing and stores nothing
    assert process(sqs_event(archived), lambda_context()) == {"batchItemFailures": []}
    result = process_archived_event(archived, deps.settings, deps.archive, deps.memory)
    assert result.skipped == "not_processed"
    assert deps.memory.list_all("+15550100142") == []


def test_a_transcription_naming_nobody_is_archived_unattributed_and_answered_200(deps, keys):
    # Given a web conversation with no phone and no user_id
    event = load_fixture("transcription_web")
    event["data"]["user_id"] = None
    body = json.dumps(event).encode()

    response = deliver(body, signed_headers(body, keys["hmac"]))

    assert response["statusCode"] == 200
    key = f"post-call/unattributed/{event['data']['conversation_id']}.json"
    assert list(deps.archive.keys("post-call/")) == [key]
    result = process_archived_event(key, deps.settings, deps.archive, deps.memory)
    assert (result.skipped, result.memories_added) == ("unattributed", 0)


def test_unsafe_conversation_ids_are_encoded_and_kept_apart_from_the_callers(deps, keys):
    for conversation_id in ("../../escape", "conv/../../x", "conv\\x", "conv\x00x", ""):
        event = load_fixture(INBOUND)
        event["data"]["conversation_id"] = conversation_id
        body = json.dumps(event).encode()
        response = deliver(body, signed_headers(body, keys["hmac"]))
        assert response["statusCode"] == 200, conversation_id
    archived = list(deps.archive.keys(""))
    assert len(archived) == 5
    assert all(key.startswith("post-call/other/post_call_transcription/") for key in archived)
    assert all(".." not in key.removeprefix("post-call/other/") for key in archived)


def test_an_archive_failure_is_a_5xx_so_elevenlabs_retries(deps, keys):
    deps.archive.fail_with = OSError("disk full")
    body = fixture_bytes(INBOUND)
    response = deliver(body, signed_headers(body, keys["hmac"]))
    assert response["statusCode"] == 503
    assert response_json(response)["error"] == "archive_unavailable"


def test_a_poison_event_is_reported_as_a_batch_failure(deps, keys):
    deps.archive.put("post-call/+15550100999/conv_poison.json", b"{not json", "application/json")
    result = process(sqs_event("post-call/+15550100999/conv_poison.json"), lambda_context())
    assert len(result["batchItemFailures"]) == 1


def test_a_memory_outage_during_processing_is_retried_by_the_queue(deps, keys):
    body = fixture_bytes(INBOUND)
    deliver(body, signed_headers(body, keys["hmac"]))
    [key] = deps.archive.keys("post-call/")
    deps.memory.fail_with = ConnectionError("mem0 down")
    assert len(process(sqs_event(key), lambda_context())["batchItemFailures"]) == 1
    deps.memory.fail_with = None
    assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}
    assert deps.memory.list_all(caller_of(INBOUND))


def as_withheld(event: dict, placeholder: str) -> dict:
    data = event["data"]
    data["metadata"]["phone_call"]["external_number"] = placeholder
    data["conversation_initiation_client_data"]["dynamic_variables"]["system__caller_id"] = placeholder
    return event


def test_a_withheld_callers_transcription_is_archived_unattributed_and_adds_no_memory(deps, keys):
    # Given a signed transcription from a caller who withheld her number
    event = as_withheld(load_fixture(INBOUND), "Anonymous")
    body = json.dumps(event).encode()
    # When it is delivered and processed
    response = deliver(body, signed_headers(body, keys["hmac"]))
    [key] = deps.archive.keys("post-call/")
    result = process_archived_event(key, deps.settings, deps.archive, deps.memory)
    # Then it is kept under no caller, answered 200, and skipped by the processor without failing
    assert response["statusCode"] == 200
    assert key == f"post-call/unattributed/{event['data']['conversation_id']}.json"
    assert deps.archive.get(key) == body
    assert result.skipped == "withheld_caller"
    assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}
    assert deps.memory._records == {}


def agent_only(data: dict, *user_messages: str) -> list[dict]:
    """The agent's turns of ``data``'s transcript, and the caller's turns replaced by ``user_messages``."""
    agent = [turn for turn in data["transcript"] if turn["role"] == "agent"]
    return agent + [{**agent[0], "role": "user", "message": message} for message in user_messages]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda data: data.update(status="failed"), "status is failed"),
        (lambda data: data.update(transcript=[]), "the transcript is empty"),
        (
            lambda data: data["metadata"].update(error={"code": 1011, "reason": "LLM failed"}),
            "metadata carries an error",
        ),
        (lambda data: data.update(transcript=agent_only(data)), "the caller said nothing"),
        (lambda data: data.update(transcript=agent_only(data, "")), "the caller said nothing"),
        (lambda data: data.update(transcript=agent_only(data, "   ")), "the caller said nothing"),
    ],
    ids=["failed", "empty", "error", "agent-only", "user-empty", "user-blank"],
)
def test_a_call_that_did_not_happen_is_archived_but_stores_no_memory(deps, keys, change, reason):
    # Given a signed transcription of a call that did not happen
    event = load_fixture(INBOUND)
    change(event["data"])
    body = json.dumps(event).encode()
    # When it is delivered and processed
    assert deliver(body, signed_headers(body, keys["hmac"]))["statusCode"] == 200
    [key] = deps.archive.keys("post-call/")
    result = process_archived_event(key, deps.settings, deps.archive, deps.memory)
    # Then it is archived under its caller, but skipped, saying why, and nothing is remembered
    assert key.startswith(f"post-call/{caller_of(INBOUND)}/")
    assert deps.archive.get(key) == body
    assert (result.skipped, result.reason, result.memories_added) == ("call_did_not_happen", reason, 0)
    assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}
    assert deps.memory.list_all(caller_of(INBOUND)) == []


def test_s3s_test_event_is_acknowledged_without_work(deps):
    # Given the message S3 sends to the queue when the bucket notification is configured
    body = json.dumps(
        {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-30T04:00:00.000Z",
         "Bucket": "agentic-memory-dev-archive", "RequestId": "R1", "HostId": "H1"}
    )  # fmt: skip
    record = {"messageId": "m-1", "receiptHandle": "r", "body": body, "attributes": {},
              "messageAttributes": {}, "eventSource": "aws:sqs", "awsRegion": "us-east-1",
              "eventSourceARN": "arn:aws:sqs:us-east-1:111111111111:q", "md5OfBody": ""}  # fmt: skip
    event = {"Records": [record]}

    # When the processor receives it, then it succeeds (it must not end in the dead-letter queue)
    assert process(event, lambda_context()) == {"batchItemFailures": []}
    assert list(deps.archive.keys("")) == []
