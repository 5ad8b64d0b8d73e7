"""The recall index in the box: the processor writes it, and search_memory answers from it alone.

A signed transcription is delivered and processed from the artifact, as in the scenario
(test_stack_in_a_box.py); the caller's recall index must then be in the archive under ``recall/``,
readable by the retrieve function's own IAM user. Then a retrieve environment whose ``MEM0_BASE_URL``
is a closed port on loopback (Mem0 refuses every connection, at once) is asked about the caller's
dog: its answer must still be 200 with the caller's words about Biscuit, each memory dated.

The call is replayed as a caller and conversation of its own, so this test shares nothing with the
scenario's caller in the session's stacks.
"""

import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from box_events import api_request, response_json
from box_lambda import ExecutionEnvironment, LambdaSetup, lambda_environment
from box_stack import BoxStack, Functions, start_environment

from devtools.fixtures import load_fixture
from local_runtime.sender import rewrite

pytestmark = pytest.mark.integration

FIXTURE = load_fixture("transcription_twilio_inbound")
FIXTURE_CALLER = FIXTURE["data"]["metadata"]["phone_call"]["external_number"]
CALLER = "+15550100944"
CONVERSATION = "conv_box_recall_0001"
TRANSCRIPTION = rewrite(FIXTURE, CALLER, CONVERSATION, FIXTURE_CALLER)
EVENT_KEY = f"post-call/{CALLER}/{CONVERSATION}.json"
RECALL_KEY = f"recall/{CALLER}.sqlite.gz"
# The call started 2025-11-18 15:04 UTC (start_time_unix_secs 1763478252): morning of that day in
# any zone of a +1 number.
CALL_DATE = "[18 November 2025] "
DATED = re.compile(r"^\[\d{1,2} [A-Z][a-z]+ \d{4}\] ")
# The caller's own words about the dog, as the fixture's transcript has them.
CALLERS_WORDS = "I'd like to book a check-up for my dog Biscuit."


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def recall_functions(box: BoxStack, lambda_setup: LambdaSetup) -> Iterator[Functions]:
    """post-call and the processor as the stack runs them, and retrieve with Mem0 unreachable."""
    environments: dict[str, ExecutionEnvironment] = {}
    try:
        for key in ("post-call", "post-call-processor"):
            environments[key] = start_environment(box, key, lambda_setup)
        function = box.plan.functions["retrieve"]
        credentials = box.deployed.credentials["retrieve"]
        environment = lambda_environment(
            function,
            lambda_setup,
            box.plan.region,
            {"access_key_id": credentials.access_key_id, "secret_access_key": credentials.secret_access_key},
            {
                "AWS_ENDPOINT_URL": box.deployed.server.endpoint,
                "MEM0_BASE_URL": f"http://127.0.0.1:{closed_port()}",
            },
        )
        arn = function.alias_arn(box.plan.region, box.deployed.server.account)
        environments["retrieve"] = ExecutionEnvironment(box.stack, function, lambda_setup, environment, arn)
        yield Functions(box, environments)
    finally:
        for started in environments.values():
            started.stop()


def search(functions: Functions, query: str) -> dict[str, Any]:
    """``POST /retrieve`` with a JSON body, as the search_memory webhook tool sends it."""
    headers = {}
    if "ELEVENLABS_TOOL_KEY" in functions.box.secrets:
        headers["X-Tool-Key"] = functions.box.secrets["ELEVENLABS_TOOL_KEY"]
    body = json.dumps({"query": query, "user_id": CALLER}).encode()
    response: dict[str, Any] = functions["retrieve"].invoke(api_request("POST", "/retrieve", body, headers))
    return response


def test_search_answers_from_the_recall_index_when_mem0_is_unreachable(
    box: BoxStack, recall_functions: Functions
):
    functions = recall_functions
    s3 = box.deployed.client("s3")

    # Given ElevenLabs delivers the signed transcription of a call, and the queue its notification
    notified = functions.deliver_and_process(json.dumps(TRANSCRIPTION).encode())
    failures = functions["post-call-processor"].log_tail()
    assert EVENT_KEY in notified

    # Then the caller's recall index is in the archive, under recall/
    listed = s3.list_objects_v2(Bucket=box.plan.bucket, Prefix="recall/")
    assert RECALL_KEY in [entry["Key"] for entry in listed.get("Contents", [])], failures
    # And the retrieve function's own user may read it (its policy grants recall/, moto judges it)
    as_retrieve = box.deployed.client("s3", "retrieve")
    assert as_retrieve.get_object(Bucket=box.plan.bucket, Key=RECALL_KEY)["Body"].read()

    # When the agent searches the caller's memory while Mem0 refuses every connection
    found = search(functions, "what is the name of the dog")
    # Then it answers 200 from the recall index: the caller's words about Biscuit, each memory dated
    assert found["statusCode"] == 200, (found, functions["retrieve"].log_tail())
    answer = response_json(found)
    memories = answer["memories"]
    assert "note" not in answer and memories, (answer, functions["retrieve"].log_tail())
    assert all(isinstance(memory, str) and DATED.match(memory) for memory in memories), memories
    about_biscuit = [memory for memory in memories if CALLERS_WORDS in memory]
    assert about_biscuit, memories
    assert all(memory.startswith(CALL_DATE) for memory in about_biscuit), about_biscuit
    # (and Mem0 was asked, and refused: the answer is the index's alone)
    assert "ConnectionRefused" in functions["retrieve"].log(), functions["retrieve"].log_tail()
