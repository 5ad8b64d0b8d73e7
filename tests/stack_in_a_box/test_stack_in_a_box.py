"""Each stack, as synthesized, runs a caller's whole story from the Lambda artifact on Python 3.12.

The functions run in clean Python 3.12 interpreters with only the artifact and the runtime's SDK on
their path, the stack's environment, and the credentials of an IAM user holding exactly their role's
policy; S3, SQS, SSM and KMS are moto's server with IAM enforcement on; Mem0 Platform is the
project's emulator over HTTP. S3 notifications feed the queue, the queue feeds the processor through
an emulated event source mapping, and the dead-letter queue is SQS's own redrive.

moto does check, for every request after the admin's bootstrap: the SigV4 signature against the
user's secret key, the action against the user's policies (explicit Deny first), and for S3 and SQS
the resource ARN (object keys under their prefixes, the queue). What its policy evaluation cannot
judge (found by experiment and in its access-control code, moto 5.2.5; each is a place where the
box is weaker than AWS, never one where a function gets more than its policy says):

- **Conditions.** moto passes no request context to identity policies and knows only
  ``StringEquals``, so every condition holds: ``kms:ViaService`` and
  ``kms:EncryptionContext:PARAMETER_ARN`` on the Decrypt statements, and ``s3:prefix`` on the
  processor's ListBucket (moto lets it list ``client-data/`` too; AWS would not).
- **kms:Decrypt is never asked for.** moto's SSM decrypts SecureStrings itself, without calling KMS as
  the caller, so the Decrypt statements are not exercised at all (a role without one would still read
  its secrets here), and moto accepts a SecureString whose KeyId names no key. (A function calling
  KMS directly would be refused: moto judges KMS requests against the resource ``*``.)
- **Resources outside S3 and SQS.** moto checks every other service against the resource ``*``,
  which no exact-ARN Allow matches: SSM would refuse every function its own parameters. The box's
  server authorises each parameter a request names against its ARN (``box_moto_server.py``), which is
  what AWS does, so the parameter statements are judged for real.
- **Batch actions have their own names.** moto authorises DeleteMessageBatch as
  ``sqs:DeleteMessageBatch``, which AWS authorises as ``sqs:DeleteMessage``; the box's event source
  mapping deletes one message at a time.
- **Resource policies.** The queue policy that lets S3 send notifications and the bucket policy that
  refuses plain HTTP are not evaluated by moto (and the box's endpoint is plain HTTP on loopback), so
  neither is installed; the offline infra tests check them.
- **404 or 403 for a missing key.** S3 answers a missing key 404 only to a caller allowed
  ``s3:ListBucket``, otherwise 403; moto answers 404 either way, so a role without ListBucket would
  pass here. ``tests/infra/test_stack_policies.py`` checks instead that every prefix a function reads
  it may also list.
- **Logs.** CloudWatch Logs is not in the box: functions log to standard output (kept under
  ``build/stack-in-a-box/logs/``), so the WriteOwnLogs statements are not exercised.
"""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from box_events import EventSourceMapping, api_request, response_json
from box_stack import BoxStack, Functions

from agentic_memory.signature import HEADER, sign
from devtools.fixtures import fixture_bytes, load_fixture
from local_runtime.sender import rewrite

pytestmark = pytest.mark.integration

TRANSCRIPTION = load_fixture("transcription_twilio_inbound")
CALLER = TRANSCRIPTION["data"]["metadata"]["phone_call"]["external_number"]
CALLER_NAME = "Margaret"  # "Hi, my name is Margaret" in the fixture's transcript
CONVERSATION = TRANSCRIPTION["data"]["conversation_id"]
AUDIO = load_fixture("audio")["data"]
# What an EventBridge schedule hands its target.
SCHEDULED_EVENT = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
TRANSCRIPTION_KEY = f"post-call/{CALLER}/{CONVERSATION}.json"
AUDIO_EVENT_KEY = f"post-call/audio-only/{AUDIO['agent_id']}/{AUDIO['conversation_id']}.json"
MP3_KEY = AUDIO_EVENT_KEY.removesuffix(".json") + ".mp3"
# A second caller whose event the processor cannot read at first (the poison), then can.
POISON_CALLER = "+15550100977"
POISON_CONVERSATION = "conv_box_poison_0001"
POISON_KEY = f"post-call/{POISON_CALLER}/{POISON_CONVERSATION}.json"


# -- talking to the functions as API Gateway would -------------------------------------------------------


def initiate_conversation(functions: Functions, caller: str = CALLER) -> dict[str, Any]:
    body = json.dumps(rewrite(load_fixture("precall_twilio_inbound"), caller, None, CALLER)).encode()
    headers = {functions.box.workspace_key_header: functions.box.secrets["ELEVENLABS_WORKSPACE_KEY"]}
    response = functions["client-data"].invoke(api_request("POST", "/client-data", body, headers))
    assert response["statusCode"] == 200, (response, functions["client-data"].log_tail())
    variables: dict[str, Any] = response_json(response)["dynamic_variables"]
    return variables


def deliver(functions: Functions, body: bytes) -> dict[str, Any]:
    """A post-call webhook signed with the stack's HMAC key, as ElevenLabs sends it."""
    headers = {HEADER: sign(body, functions.box.secrets["ELEVENLABS_HMAC_KEY"])}
    response: dict[str, Any] = functions["post-call"].invoke(api_request("POST", "/post-call", body, headers))
    return response


def search(functions: Functions, query: str, with_tool_key: bool = True) -> dict[str, Any]:
    headers = {}
    if with_tool_key and "ELEVENLABS_TOOL_KEY" in functions.box.secrets:
        headers["X-Tool-Key"] = functions.box.secrets["ELEVENLABS_TOOL_KEY"]
    query_string = urlencode({"query": query, "user_id": CALLER})
    response: dict[str, Any] = functions["retrieve"].invoke(
        api_request("GET", "/retrieve", b"", headers, query_string)
    )
    return response


def operator(box: BoxStack, *arguments: str, home: Path) -> subprocess.CompletedProcess[str]:
    """``agentic-memory`` from the development environment, pointed at the stack as an operator is:
    the stack's archive and Mem0 settings (the processor's environment), the deployer's credentials."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ELEVENLABS_", "MEM0_", "S3_"))
    }
    environment.update(box.plan.processor.environment)
    environment.update(
        {
            "AWS_ACCESS_KEY_ID": box.deployed.server.admin.access_key_id,
            "AWS_SECRET_ACCESS_KEY": box.deployed.server.admin.secret_access_key,
            "AWS_DEFAULT_REGION": box.plan.region,
            "AWS_ENDPOINT_URL": box.deployed.server.endpoint,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "MEM0_BASE_URL": box.mem0.url,
            "AGENTIC_MEMORY_HOME": str(home),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "local_runtime.cli", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def archived_keys(box: BoxStack, prefix: str = "") -> list[str]:
    listed = box.deployed.client("s3").list_objects_v2(Bucket=box.plan.bucket, Prefix=prefix)
    return [entry["Key"] for entry in listed.get("Contents", [])]


def queue_depth(box: BoxStack, queue_url: str) -> int:
    attributes = box.deployed.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


# -- the scenario ----------------------------------------------------------------------------------------


def test_a_callers_story_runs_on_the_stack_as_deployed(box: BoxStack, functions: Functions, tmp_path: Path):
    mapping = EventSourceMapping(box.deployed, functions["post-call-processor"])
    max_receives = box.plan.processing_queue.redrive["maxReceiveCount"]  # type: ignore[index]

    # Given a caller the stack has never heard of
    # When their call starts, Then pre-call answers with the neutral context
    first = initiate_conversation(functions)
    assert (first["caller_id"], first["returning_caller"], first["memory_count"]) == (CALLER, "no", "0")

    # When ElevenLabs delivers the signed transcription and the audio of the call
    for fixture in ("transcription_twilio_inbound", "audio"):
        response = deliver(functions, fixture_bytes(fixture))
        # Then each is answered 200 once archived
        assert response["statusCode"] == 200, f"{fixture}: {response}\n{functions['post-call'].log_tail()}"
        assert response_json(response) == {"status": "ok"}
    s3 = box.deployed.client("s3")
    archived = s3.get_object(Bucket=box.plan.bucket, Key=TRANSCRIPTION_KEY)
    assert archived["Body"].read() == fixture_bytes("transcription_twilio_inbound")

    # When the queue delivers the archive's notifications to the processor
    delivery = mapping.drain()
    # Then every event is processed, none fails, and the audio is stored as MP3
    failures = f"{delivery.failures()}\n{functions['post-call-processor'].log_tail()}"
    assert delivery.errors == [] and delivery.failed_ids == [], failures
    # (S3's test event was queued when the notification was configured, as S3 does on deployment)
    assert sorted(delivery.notified()) == sorted(["s3:TestEvent", TRANSCRIPTION_KEY, AUDIO_EVENT_KEY])
    mp3 = s3.get_object(Bucket=box.plan.bucket, Key=MP3_KEY)
    assert mp3["Body"].read() == base64.b64decode(AUDIO["full_audio"])
    stored = box.mem0.memories(CALLER)
    assert {memory["metadata"]["type"] for memory in stored} == {"factual", "semantic"}
    # And the caller's brief is in the archive, written by the processor's own role
    brief = json.loads(s3.get_object(Bucket=box.plan.bucket, Key=f"profiles/{CALLER}.json")["Body"].read())
    assert (brief["call_count"], brief["name"]["name"], list(brief["conversations"])) == (
        1,
        CALLER_NAME,
        [CONVERSATION],
    )

    # When the caller rings again, Then pre-call greets them by name
    again = initiate_conversation(functions)
    assert (again["returning_caller"], again["caller_name"], again["memory_count"]) == (
        "yes",
        CALLER_NAME,
        "1",
    )

    # When the agent searches their memory (with the tool key where the stack demands one)
    found = search(functions, "what is the name of the dog")
    # Then a fact from the call comes back
    assert found["statusCode"] == 200, (found, functions["retrieve"].log_tail())
    assert any("Biscuit" in memory for memory in response_json(found)["memories"])
    if "ELEVENLABS_TOOL_KEY" in box.secrets:
        assert search(functions, "what is the name of the dog", with_tool_key=False)["statusCode"] == 401

    # When ElevenLabs delivers the same transcription again
    duplicate = deliver(functions, fixture_bytes("transcription_twilio_inbound"))
    # Then it is answered 200 and adds nothing: no new object, no notification, no memory
    assert duplicate["statusCode"] == 200, duplicate
    assert mapping.drain().records == []
    assert len(box.mem0.memories(CALLER)) == len(stored)

    # When the daily schedule invokes the retention purge (no stack sets retentionDays: all is kept)
    purged = functions["retention"].invoke(SCHEDULED_EVENT)
    # Then it runs from the artifact with its own role, and deletes nothing
    assert purged == {
        "retention_days": None,
        "expired": 0,
        "memories_deleted": 0,
        "objects_deleted": 0,
        "failed": 0,
    }, functions["retention"].log_tail()
    assert s3.get_object(Bucket=box.plan.bucket, Key=f"profiles/{CALLER}.json")["Body"].read()

    # Given an event in the archive that processing cannot read
    s3.put_object(
        Bucket=box.plan.bucket, Key=POISON_KEY, Body=b'{"type": "post_call_transcription", "data": '
    )
    # When the queue delivers it
    poisoned = mapping.drain()
    # Then the processor reports it failed on each of the stack's receives, and SQS parks it
    assert poisoned.receive_counts(lambda body: POISON_CONVERSATION in body) == list(
        range(1, max_receives + 1)
    )
    assert len(poisoned.failed_ids) == max_receives
    assert queue_depth(box, box.deployed.queue_url) == 0
    assert queue_depth(box, box.deployed.dead_letter_queue_url) == 1

    # When the operator fixes the event and replays the dead-letter queue
    fixed = rewrite(TRANSCRIPTION, POISON_CALLER, POISON_CONVERSATION, CALLER)
    s3.put_object(Bucket=box.plan.bucket, Key=POISON_KEY, Body=json.dumps(fixed).encode())
    replayed = operator(
        box,
        "replay",
        "--dead-letter",
        "--dead-letter-queue-url",
        box.deployed.dead_letter_queue_url,
        home=tmp_path,
    )
    # Then the parked event is processed and leaves the dead-letter queue
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert f"[1/1] {POISON_KEY}" in replayed.stdout and "done: 1 processed, 0 failed" in replayed.stdout
    assert queue_depth(box, box.deployed.dead_letter_queue_url) == 0
    assert {m["metadata"]["type"] for m in box.mem0.memories(POISON_CALLER)} == {"factual", "semantic"}
    # And the fixed object's own notification finds the work already done
    replay_count = len(box.mem0.memories(POISON_CALLER))
    overwritten = mapping.drain()
    assert (overwritten.notified(), overwritten.failed_ids) == ([POISON_KEY], [])
    assert len(box.mem0.memories(POISON_CALLER)) == replay_count

    # When the operator erases the caller
    erased = operator(box, "forget", CALLER, "--yes", home=tmp_path)
    # Then nothing of theirs is left in the archive or in Mem0, and the other caller is untouched
    assert erased.returncode == 0, erased.stdout + erased.stderr
    assert [key for key in archived_keys(box) if CALLER in key or key == MP3_KEY] == []
    assert box.mem0.memories(CALLER) == []
    assert POISON_KEY in archived_keys(box)
    assert len(box.mem0.memories(POISON_CALLER)) == replay_count
