"""Mem0 throttling and outages in the box (issue 18, item 4), from the Lambda artifact on Python 3.12.

1. **A throttling window.** Mem0 answers every add with 429 and ``Retry-After: 3``. The transcription's
   processing fails, but the caller's brief and recall index are written from the archived event, so
   the next pre-call greets them back and the search tool finds what they said; the failed message is
   held by ``ChangeMessageVisibility`` for at least the ``Retry-After`` (the schedule's first delay is
   1 s here). When the window ends, the event source mapping's next receives (nothing else: no command)
   store the memories.
2. **An outage longer than the schedule.** Mem0 refuses connections: the message is retried on the
   schedule (1, 2, 4, 8 s) and SQS parks it in the dead-letter queue after the stack's receives. The
   processor's scheduled run (the EventBridge event the stack's rule sends) does nothing while Mem0 is
   down; once Mem0 answers, it sends the dead letter back and the memories arrive.

Each scenario has callers of its own, so nothing is shared with the other box tests of the session.
"""

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from box_events import EventSourceMapping, api_request, response_json
from box_lambda import ExecutionEnvironment, LambdaSetup
from box_stack import BoxStack, Functions, start_environment
from test_stack_in_a_box import queue_depth

from agentic_memory.signature import HEADER, sign
from devtools.fixtures import load_fixture

# Prod's stack only: the schedule, the receives and the re-drive are the same code in every stack, and
# each scenario waits out real delays (about half a minute together).
pytestmark = [pytest.mark.integration, pytest.mark.parametrize("box", ["prod"], indirect=True)]

RETRY_AFTER_SECONDS = 3
# The stack's first retry delay is 30 s; the box's processor waits 1 s so that a scenario takes seconds.
BOX_FIRST_DELAY = {"RETRY_FIRST_DELAY_SECONDS": "1"}
SCHEDULED_EVENT = {
    "version": "0",
    "id": "3f8e2d1c-0000-4000-8000-000000000001",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-07T20:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/agentic-memory-box-post-call-processor"],
    "detail": {},
}


@pytest.fixture
def processor(
    box: BoxStack, lambda_setup: LambdaSetup, functions: Functions
) -> Iterator[ExecutionEnvironment]:
    """The stack's processor with a 1-second first retry delay, in place of the scenario's own."""
    environment = start_environment(box, "post-call-processor", lambda_setup, BOX_FIRST_DELAY)
    functions.environments["post-call-processor"].stop()
    functions.environments["post-call-processor"] = environment
    yield environment


@pytest.fixture
def mem0_restored(box: BoxStack) -> Iterator[None]:
    yield
    box.mem0.configure(rate_limit_rate=0.0, fault_operations=None, outage=None, retry_after_seconds=1)


def transcription(caller: str, conversation: str) -> bytes:
    event = load_fixture("transcription_twilio_inbound")
    event["data"]["conversation_id"] = conversation
    event["data"]["metadata"]["phone_call"]["external_number"] = caller
    return json.dumps(event).encode()


def deliver(box: BoxStack, functions: Functions, body: bytes) -> None:
    headers = {HEADER: sign(body, box.secrets["ELEVENLABS_HMAC_KEY"])}
    answered = functions["post-call"].invoke(api_request("POST", "/post-call", body, headers))
    assert answered["statusCode"] == 200, (answered, functions["post-call"].log_tail())


def until(condition: Callable[[], Any], seconds: float, every: float = 0.25) -> Any:
    """Poll ``condition`` (the event source mapping keeps polling, as in AWS) until it is truthy."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every)
    return condition()


def pre_call(box: BoxStack, functions: Functions, caller: str) -> dict[str, str]:
    request = load_fixture("precall_twilio_inbound") | {"caller_id": caller}
    headers = {box.workspace_key_header: box.secrets["ELEVENLABS_WORKSPACE_KEY"]}
    response = functions["client-data"].invoke(
        api_request("POST", "/client-data", json.dumps(request).encode(), headers)
    )
    assert response["statusCode"] == 200, (response, functions["client-data"].log_tail())
    variables: dict[str, str] = response_json(response)["dynamic_variables"]
    return variables


def test_memories_arrive_after_a_throttling_window_and_the_caller_is_known_during_it(
    box: BoxStack, functions: Functions, processor: ExecutionEnvironment, mem0_restored: None
):
    caller, conversation = "+15550100971", "conv_box_throttled_0001"
    mapping = EventSourceMapping(box.deployed, processor)
    # Given Mem0 throttles every add, with Retry-After
    box.mem0.configure(rate_limit_rate=1.0, fault_operations=["add"], retry_after_seconds=RETRY_AFTER_SECONDS)
    # When a call's transcription arrives and the queue delivers it
    deliver(box, functions, transcription(caller, conversation))
    failed_at = time.monotonic()
    first = mapping.drain()
    # Then its processing failed and nothing is stored in Mem0
    assert len(first.failed_ids) == 1 and box.mem0.memories(caller) == [], first.failures()
    # But the caller is known: the pre-call greets them back by name
    during = pre_call(box, functions, caller)
    assert (during["returning_caller"], during["caller_name"]) == ("yes", "Margaret"), during
    # And the failed message is held for Mem0's Retry-After, not redelivered at once
    assert mapping.drain().records == []
    # When the window ends, the event source mapping's next receives process it, with no command
    box.mem0.configure(rate_limit_rate=0.0, fault_operations=None)
    redelivered = until(lambda: mapping.drain().records, seconds=RETRY_AFTER_SECONDS + 10)
    assert redelivered, processor.log_tail()
    assert time.monotonic() - failed_at >= RETRY_AFTER_SECONDS
    # Then the memories arrive and the queue is empty
    assert until(lambda: box.mem0.memories(caller), seconds=5), processor.log_tail()
    assert queue_depth(box, box.deployed.queue_url) == 0


def test_a_dead_letter_goes_back_by_itself_once_mem0_answers_again(
    box: BoxStack, functions: Functions, processor: ExecutionEnvironment, mem0_restored: None
):
    caller, conversation = "+15550100972", "conv_box_outage_0001"
    mapping = EventSourceMapping(box.deployed, processor)
    # Given Mem0 refuses connections for longer than the retry schedule
    box.mem0.configure(outage="refuse")
    deliver(box, functions, transcription(caller, conversation))
    # When the queue keeps delivering it on the schedule until SQS parks it
    parked = until(
        lambda: (mapping.drain(), queue_depth(box, box.deployed.dead_letter_queue_url) == 1)[1],
        seconds=40,
        every=0.5,
    )
    assert parked, processor.log_tail()
    assert queue_depth(box, box.deployed.queue_url) == 0
    # Then the scheduled run leaves it there while Mem0 is still down
    assert processor.invoke(SCHEDULED_EVENT)["skipped"] == "memory store unavailable"
    assert queue_depth(box, box.deployed.dead_letter_queue_url) == 1
    # When Mem0 answers again, the next scheduled run sends it back, and the queue processes it
    box.mem0.configure(outage=None)
    assert processor.invoke(SCHEDULED_EVENT) == {"redriven": 1, "kept": 0}
    assert queue_depth(box, box.deployed.dead_letter_queue_url) == 0
    delivered = mapping.drain()
    assert delivered.failed_ids == [], delivered.failures()
    # Then the memories arrive, with nobody having run a command
    assert box.mem0.memories(caller), processor.log_tail()
