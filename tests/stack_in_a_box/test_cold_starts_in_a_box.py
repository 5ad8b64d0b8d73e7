"""Cold starts, measured the way Lambda has them: fresh Python 3.12 interpreters on the artifact.

For each function of the prod stack, several fresh execution environments each import the handler
and take one representative event (the figures go to the session's cold-start report, as medians);
beside them, the same handler's import in the development environment. Nothing here asserts a time:
the test checks that every cold invocation answered correctly, and reports how long it took.

The sampling has a moto server and a Mem0 emulator of its own, so that the events it sends (an
archived transcription, its notification) never reach the scenario's queue.
"""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

import pytest
from box_aws import MotoServer
from box_events import api_request, response_json, sqs_record
from box_graph import StackPlan
from box_lambda import LambdaSetup
from box_runtime import BOX_BUILD_DIR
from box_stack import COLD_STARTS, DEV_IMPORTS, BoxStack, box_up, record_cold_start, start_environment

from agentic_memory.signature import HEADER, sign
from devtools.fixtures import load_fixture
from local_runtime.sender import rewrite

pytestmark = pytest.mark.integration

SAMPLED_STACK = "prod"
SAMPLES = int(os.environ.get("STACK_IN_A_BOX_COLD_SAMPLES", "5"))
CALLER = "+15550100966"
FIXTURE_CALLER = load_fixture("transcription_twilio_inbound")["data"]["metadata"]["phone_call"][
    "external_number"
]
TRANSCRIPTION = rewrite(
    load_fixture("transcription_twilio_inbound"), CALLER, "conv_box_cold_0001", FIXTURE_CALLER
)
EVENT_KEY = f"post-call/{CALLER}/conv_box_cold_0001.json"


@pytest.fixture(scope="module")
def sampling_box(plans: Callable[[str], StackPlan]) -> Iterator[BoxStack]:
    server = MotoServer(BOX_BUILD_DIR / "moto-server-cold-starts.log")
    box = box_up(plans(SAMPLED_STACK), server)
    yield box
    box.mem0.stop()
    server.stop()


def first_event(box: BoxStack, key: str) -> dict[str, Any]:
    """What each function is woken by, built at the moment of the call (signatures are timed)."""
    secrets = box.secrets
    if key == "client-data":
        body = json.dumps(
            rewrite(load_fixture("precall_twilio_inbound"), CALLER, None, FIXTURE_CALLER)
        ).encode()
        headers = {box.workspace_key_header: secrets["ELEVENLABS_WORKSPACE_KEY"]}
        return api_request("POST", "/client-data", body, headers)
    if key == "retrieve":
        headers = {"X-Tool-Key": secrets["ELEVENLABS_TOOL_KEY"]} if "ELEVENLABS_TOOL_KEY" in secrets else {}
        return api_request("GET", "/retrieve", b"", headers, urlencode({"query": "dog", "user_id": CALLER}))
    if key == "retention":
        return {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    if key == "post-call":
        body = json.dumps(TRANSCRIPTION).encode()
        return api_request("POST", "/post-call", body, {HEADER: sign(body, secrets["ELEVENLABS_HMAC_KEY"])})
    notification = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": box.plan.bucket}, "object": {"key": quote_plus(EVENT_KEY)}},
            }
        ]
    }
    message = {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": "box-sample",
        "Body": json.dumps(notification),
    }
    return {"Records": [sqs_record(message, box.deployed.queue_arn, box.plan.region)]}


def answered(key: str, response: Any) -> bool:
    if key == "post-call-processor":
        return bool(response == {"batchItemFailures": []})
    if key == "retention":
        return bool(response.get("failed") == 0 and "expired" in response)
    return bool(response.get("statusCode") == 200 and response_json(response))


def import_in_development(handler: str, environment: dict[str, str], cwd: Path) -> float:
    """The handler module's import time in the development interpreter (a fresh process)."""
    module = handler.rpartition(".")[0]
    code = (
        "import importlib, time; started = time.perf_counter(); importlib.import_module(%r); "
        "print((time.perf_counter() - started) * 1000)"
    )
    measured = subprocess.run(
        [sys.executable, "-I", "-c", code % module],
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert measured.returncode == 0, measured.stderr
    return float(measured.stdout.split()[-1])


def test_each_function_answers_its_first_event_in_a_fresh_environment(
    sampling_box: BoxStack, lambda_setup: LambdaSetup, tmp_path: Path
):
    # The processor's samples read what the post-call samples archived: post-call goes first.
    order = sorted(sampling_box.plan.functions, key=lambda key: key == "post-call-processor")
    for key in order:
        function = sampling_box.plan.functions[key]
        for _ in range(SAMPLES):
            # Given a fresh execution environment
            environment = start_environment(sampling_box, key, lambda_setup)
            try:
                # When it takes its first event, Then it answers as it should
                response = environment.invoke(first_event(sampling_box, key))
                assert answered(key, response), (response, environment.log_tail())
            finally:
                environment.stop()
            record_cold_start(environment.cold_start, "sampling")
            development = {**function.environment, "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
            DEV_IMPORTS.append(
                {"function": key, "import_ms": import_in_development(function.handler, development, tmp_path)}
            )
    # Then every function has its samples in the report
    sampled = [c.function for c in COLD_STARTS if c.source == "sampling"]
    assert sorted(set(sampled)) == sorted(sampling_box.plan.functions)
    assert all(sampled.count(key) == SAMPLES for key in sampling_box.plan.functions)
