"""One WhatsApp conversation end to end in the box (issue 18, item 1), from the Lambda artifact.

The signed transcription of a WhatsApp conversation, which names the person only in
``metadata.whatsapp`` (no ``phone_call``), is delivered and processed as the stack runs them; it must be
filed under the person's number, not as unattributed. Then the pre-call of their next WhatsApp
conversation, whose ``caller_id`` is their WhatsApp user id and ``call_sid`` empty, must greet them as
a returning caller by name. The conversation is a caller of its own, so nothing is shared with the
other box tests in the session's stacks.
"""

import json

import pytest
from box_events import api_request, response_json
from box_stack import BoxStack, Functions

from devtools.fixtures import load_fixture

pytestmark = pytest.mark.integration

WHATSAPP_ID = "15550100966"
CALLER = "+15550100966"
CONVERSATION = "conv_box_whatsapp_0001"
EVENT_KEY = f"post-call/{CALLER}/{CONVERSATION}.json"


def whatsapp_transcription() -> bytes:
    event = load_fixture("transcription_whatsapp")
    event["data"]["conversation_id"] = CONVERSATION
    event["data"]["metadata"]["whatsapp"]["whatsapp_user_id"] = WHATSAPP_ID
    return json.dumps(event).encode()


def test_a_whatsapp_conversation_is_remembered_and_the_next_whatsapp_precall_greets_the_caller_back(
    box: BoxStack, functions: Functions
):
    # Given ElevenLabs delivers the signed transcription of a WhatsApp conversation, and the queue
    # its notification to the processor
    notified = functions.deliver_and_process(whatsapp_transcription())

    # Then it was filed under the person's number, not as unattributed
    assert EVENT_KEY in notified, notified

    # When the person writes again on WhatsApp: the recorded pre-call, with their WhatsApp user id
    request = load_fixture("precall_whatsapp") | {"caller_id": WHATSAPP_ID}
    pre_call_headers = {box.workspace_key_header: box.secrets["ELEVENLABS_WORKSPACE_KEY"]}
    response = functions["client-data"].invoke(
        api_request("POST", "/client-data", json.dumps(request).encode(), pre_call_headers)
    )

    # Then they are greeted as returning, by the name they gave, under the same key
    assert response["statusCode"] == 200, (response, functions["client-data"].log_tail())
    answer = response_json(response)
    assert answer["dynamic_variables"]["returning_caller"] == "yes", answer
    assert answer["dynamic_variables"]["caller_name"] == "Margaret", answer
    assert answer["user_id"] == CALLER
