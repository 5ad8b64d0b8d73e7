"""A call an operator removed stays removed on the stack as deployed (issue 19), from the artifact.

The operator's ``remove-call`` records ``call_removed`` in the caller's corrections and deletes what the
call left. ElevenLabs may still deliver it again (a retry, a webhook replayed from its dashboard): the
post-call function must archive it (a signed event is never refused) and the processor, under its own
role and policy, must skip it and delete what the delivery archived. The caller is one of its own, so
nothing is shared with the other box tests in the session's stacks.
"""

import json
from datetime import UTC, datetime

import pytest
from box_stack import BoxStack, Functions

from agentic_memory.corrections import Correction, Corrections, corrections_key
from devtools.fixtures import load_fixture

pytestmark = pytest.mark.integration

CALLER = "+15550100931"  # a number no other box test uses (the session shares the stacks)
CONVERSATION = "conv_box_removed_0001"
EVENT_KEY = f"post-call/{CALLER}/{CONVERSATION}.json"


def removed_call_delivered_again() -> bytes:
    event = load_fixture("transcription_twilio_inbound")
    data = event["data"]
    data["conversation_id"] = CONVERSATION
    data["metadata"]["phone_call"]["external_number"] = CALLER
    data["conversation_initiation_client_data"]["dynamic_variables"]["system__caller_id"] = CALLER
    return json.dumps(event).encode()


def test_a_late_delivery_of_a_removed_call_is_deleted_by_the_processor(box: BoxStack, functions: Functions):
    # Given the operator removed the call: its removal is in the caller's corrections
    s3 = box.deployed.client("s3")
    removal = Correction(
        kind="call_removed", at=datetime.now(UTC), by="cli:box", conversation_id=CONVERSATION
    )
    record = Corrections(caller_id=CALLER, entries=(removal,))
    s3.put_object(Bucket=box.plan.bucket, Key=corrections_key(CALLER), Body=record.model_dump_json().encode())

    # When ElevenLabs delivers the call again, signed, and the queue hands it to the processor
    notified = functions.deliver_and_process(removed_call_delivered_again())

    # Then it was archived on arrival (a signed event is never refused) and deleted by the processor
    assert EVENT_KEY in notified, notified
    listed = s3.list_objects_v2(Bucket=box.plan.bucket, Prefix=f"post-call/{CALLER}/")
    kept = [item["Key"] for item in listed.get("Contents", [])]
    assert kept == [], f"{kept}\n{functions['post-call-processor'].log_tail()}"
    # And nothing was made of it: no brief, no recall index
    for prefix in (f"profiles/{CALLER}", f"recall/{CALLER}"):
        assert s3.list_objects_v2(Bucket=box.plan.bucket, Prefix=prefix).get("KeyCount", 0) == 0
