"""Operator commands against a stack's resources: the S3 archive and the SQS dead-letter queue, on
moto's real server on loopback (the memory is an in-memory fake; Mem0 Platform has its own tests)."""

import argparse
import json
from urllib.parse import quote_plus

import pytest

from agentic_memory.wiring import Dependencies
from devtools.fakes import InMemoryMemoryStore
from devtools.fixtures import fixture_bytes, load_fixture
from local_runtime import operations
from local_runtime.operator_commands import replay_events

pytestmark = pytest.mark.integration
EVENT = load_fixture("transcription_twilio_inbound")
CALLER = EVENT["data"]["metadata"]["phone_call"]["external_number"]
KEY = f"post-call/{CALLER}/{EVENT['data']['conversation_id']}.json"


def notification(bucket: str, key: str) -> str:
    record = {
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key)}},
    }
    return json.dumps({"Records": [record]})


def test_replay_drains_the_stacks_dead_letter_queue(
    s3_archive, s3_bucket, moto_s3_endpoint, fake_aws_environment, settings, monkeypatch
):
    import boto3

    # Given an archived transcription whose processing was parked in the stack's dead-letter queue
    s3_archive.put(KEY, fixture_bytes("transcription_twilio_inbound"), "application/json")
    sqs = boto3.session.Session().client("sqs", endpoint_url=moto_s3_endpoint, **fake_aws_environment)
    queue_url = sqs.create_queue(QueueName="agentic-memory-test-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=notification(s3_bucket, KEY))
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_s3_endpoint)
    deps = Dependencies(settings=settings, memory=InMemoryMemoryStore(), archive=s3_archive)
    # When the operator replays the dead-letter queue
    args = argparse.Namespace(
        dead_letter=True,
        dead_letter_queue_url=queue_url,
        caller=None,
        conversation=None,
        since=None,
        until=None,
    )
    assert replay_events(args, deps) == 0
    # Then the call is stored and the message is gone from the queue
    assert {m.metadata["type"] for m in deps.memory.list_all(CALLER)} == {"factual", "semantic"}
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_forget_erases_a_callers_objects_from_the_bucket(s3_archive, settings):
    # Given a caller's transcription, its audio and a pre-call exchange in the bucket
    audio = load_fixture("audio")["data"]
    event = json.loads(fixture_bytes("transcription_twilio_inbound"))
    event["data"]["agent_id"], event["data"]["conversation_id"] = audio["agent_id"], audio["conversation_id"]
    key = f"post-call/{CALLER}/{audio['conversation_id']}.json"
    s3_archive.put(key, json.dumps(event).encode(), "application/json")
    mp3 = f"post-call/audio-only/{audio['agent_id']}/{audio['conversation_id']}.mp3"
    s3_archive.put(mp3, b"ID3 audio", "audio/mpeg")
    s3_archive.put(f"client-data/{CALLER}/20261126T000000000Z_CA1/received.json", b"{}", "application/json")
    s3_archive.put("post-call/+15550100999/conv_someone_else.json", b"{}", "application/json")
    memory = InMemoryMemoryStore()
    # When the operator forgets the caller
    found = operations.footprint(CALLER, s3_archive, memory)
    assert mp3 in found.object_keys
    operations.forget(found, s3_archive, memory)
    # Then nothing of theirs is left, and nobody else's object was touched
    assert list(s3_archive.keys(f"post-call/{CALLER}/")) == []
    assert list(s3_archive.keys(f"client-data/{CALLER}/")) == []
    assert not s3_archive.exists(mp3)
    assert s3_archive.exists("post-call/+15550100999/conv_someone_else.json")
