"""Transfers between agents under MEMORY_SCOPE=caller_and_agent: the front desk hands Margaret to
billing, billing settles a refund, and each agent remembers the conversation: billing when she rings
billing directly next week (pre-call and search tool), the front desk too. Each way a post-call names
the agents (visited_agents, agent_metadata, a transfer result) is enough on its own."""

import copy
import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest
from helpers import api_event, lambda_context, signed_headers, sqs_event
from test_scope_and_retention import (
    AGENT_A,
    CALL_STARTED,
    MARGARET,
    deps_with,
    initiation_variables,
    install,
    search,
)

from agentic_memory.elevenlabs.post_call import TranscriptionData
from agentic_memory.memory_adds import receipt_key
from agentic_memory.scope import MemoryScope
from agentic_memory.transfers import agents_in_scope, conversation_agents
from devtools.fixtures import load_fixture
from local_runtime import operations
from services.post_call.handler import lambda_handler as post_call
from services.post_call.processor import lambda_handler as process

FRONT_DESK = AGENT_A
BILLING = "agent_0000billingdesk0000000000000"
REFUND = "Your refund of forty-two dollars for the double charge on the March invoice is settled."


def transferred_call(
    named_by: str, first: str = FRONT_DESK, then: str = BILLING, conversation: str = "conv_transferred"
) -> dict[str, Any]:
    """Margaret's recorded call, started with ``first`` and handed to ``then`` half-way, whose
    post-call names the agents only in the way ``named_by`` says (as a real payload would carry it)."""
    event = copy.deepcopy(load_fixture("transcription_twilio_inbound"))
    data = event["data"]
    data |= {"agent_id": first, "conversation_id": conversation}
    turns = [turn for turn in data["transcript"] if turn.get("message")][:3]
    for turn in turns:
        turn.pop("agent_metadata", None)
    transfer = {
        "role": "agent",
        "message": None,
        "tool_results": [
            {
                "request_id": "transfer_1",
                "tool_name": "transfer_to_agent",
                "result_value": json.dumps(
                    {
                        "result_type": "transfer_to_agent_success",
                        "from_agent": first,
                        "to_agent": then,
                        "condition": "billing question",
                    }
                ),
                "is_error": False,
                "type": "system",
            }
        ],
    }
    billing_turns = [
        {"role": "user", "message": "I was charged twice on my March invoice, can you look at it?"},
        {"role": "agent", "message": REFUND},
        {"role": "user", "message": "Thank you, that is a relief."},
    ]
    data["transcript"] = [*turns, *billing_turns]
    if named_by == "visited_agents":
        data["visited_agents"] = [{"agent_id": first, "branch_id": None}, {"agent_id": then}]
    elif named_by == "agent_metadata":
        for turn in turns:
            if turn["role"] == "agent":
                turn["agent_metadata"] = {"agent_id": first, "branch_id": None, "workflow_node_id": None}
        billing_turns[1]["agent_metadata"] = {"agent_id": then, "branch_id": None, "workflow_node_id": None}
    elif named_by == "transfer_result":
        data["transcript"] = [*turns, transfer, *billing_turns]
    else:
        raise AssertionError(named_by)
    data["analysis"]["transcript_summary"] = (
        "Margaret was transferred to billing and refunded a double charge."
    )
    return event


def deliver(keys: dict[str, str], deps: Any, event: dict[str, Any]) -> None:
    body = json.dumps(event).encode()
    answer = post_call(
        api_event("POST", "/post-call", body, signed_headers(body, keys["hmac"])), lambda_context()
    )
    assert answer["statusCode"] == 200
    conversation = event["data"]["conversation_id"]
    assert process(sqs_event(f"post-call/{MARGARET}/{conversation}.json"), lambda_context()) == {
        "batchItemFailures": []
    }


def refund_found(agent: str) -> bool:
    return any(
        "forty-two dollars" in memory
        for memory in search("refund for the double charge", agent_id=agent)["memories"]
    )  # type: ignore[attr-defined]


@pytest.mark.parametrize("named_by", ["visited_agents", "agent_metadata", "transfer_result"])
def test_a_transferred_conversation_is_remembered_by_every_agent_it_visited(
    keys, tmp_path, installed, named_by
):
    # Given memory per caller and agent, and a conversation the front desk handed to billing
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED, MEMORY_SCOPE="caller_and_agent"))
    deliver(keys, deps, transferred_call(named_by))
    # When Margaret rings billing directly a week later, and the front desk too
    deps = install(installed, dataclasses.replace(deps, clock=lambda: CALL_STARTED + timedelta(days=7)))
    with_billing, with_front_desk = (
        initiation_variables(keys, BILLING),
        initiation_variables(keys, FRONT_DESK),
    )
    # Then both know her, and each one's search tool finds the refund billing settled
    assert (with_billing["returning_caller"], with_billing["memory_count"]) == ("yes", "1")
    assert (with_front_desk["returning_caller"], with_front_desk["memory_count"]) == ("yes", "1")
    assert "refunded" in with_billing["memory_summary"]
    assert refund_found(BILLING) and refund_found(FRONT_DESK)
    # And the memories, briefs and recall indexes are each agent's own
    for agent in (FRONT_DESK, BILLING):
        assert deps.archive.exists(f"profiles/{agent}/{MARGARET}.json")
        assert deps.archive.exists(f"recall/{agent}/{MARGARET}.sqlite.gz")
        assert any(REFUND in record.text for record in deps.memory.list_all(f"{MARGARET}~{agent}"))
    # And an agent the conversation never reached knows nothing
    assert initiation_variables(keys, "agent_0000neverreached000000000000")["returning_caller"] == "no"


def test_a_transfer_back_the_other_way_is_remembered_by_both_too(keys, tmp_path, installed):
    # Given a conversation that billing started and handed to the front desk
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED, MEMORY_SCOPE="caller_and_agent"))
    deliver(keys, deps, transferred_call("transfer_result", first=BILLING, then=FRONT_DESK))
    # Then both agents remember it
    assert refund_found(FRONT_DESK) and refund_found(BILLING)


def test_a_redelivered_transferred_conversation_adds_nothing_twice(keys, tmp_path, installed):
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED, MEMORY_SCOPE="caller_and_agent"))
    event = transferred_call("visited_agents")
    deliver(keys, deps, event)
    counts = [len(deps.memory.list_all(f"{MARGARET}~{agent}")) for agent in (FRONT_DESK, BILLING)]
    deliver(keys, deps, event)
    assert [len(deps.memory.list_all(f"{MARGARET}~{agent}")) for agent in (FRONT_DESK, BILLING)] == counts
    assert min(counts) > 0


def test_under_caller_scope_a_transferred_conversation_is_one_memory(keys, tmp_path, installed):
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED))
    deliver(keys, deps, transferred_call("visited_agents"))
    assert refund_found(BILLING) and deps.memory.list_all(MARGARET)
    assert deps.memory.list_all(f"{MARGARET}~{BILLING}") == []
    assert list(deps.archive.keys("profiles/")) == [f"profiles/{MARGARET}.json"]


def test_rebuild_and_forget_reach_every_agent_a_conversation_visited(keys, tmp_path, installed):
    # Given a transferred conversation remembered by both agents
    deps = install(installed, deps_with(keys, tmp_path, CALL_STARTED, MEMORY_SCOPE="caller_and_agent"))
    deliver(keys, deps, transferred_call("agent_metadata"))
    billing_brief = f"profiles/{BILLING}/{MARGARET}.json"
    # When billing's brief and index are lost and the briefs are rebuilt from the archive
    deps.archive.delete(billing_brief)
    deps.archive.delete(f"recall/{BILLING}/{MARGARET}.sqlite.gz")
    report = operations.rebuild_profiles([MARGARET], deps.archive, scope=MemoryScope.CALLER_AND_AGENT)
    # Then both come back, and the report counts the one conversation once
    assert report.rebuilt == {MARGARET: 1} and report.indexed == {MARGARET: 1}
    assert deps.archive.exists(billing_brief) and refund_found(BILLING)
    # When Margaret is forgotten, nothing of her is left with either agent
    found = operations.footprint(MARGARET, deps.archive, deps.memory)
    assert f"{MARGARET}~{BILLING}" in found.user_ids
    operations.forget(found, deps.archive, deps.memory)
    assert all(deps.memory.list_all(f"{MARGARET}~{agent}") == [] for agent in (FRONT_DESK, BILLING))
    assert [key for key in deps.archive.keys("") if MARGARET in key] == []


def test_the_agents_of_a_conversation_are_read_from_every_field_first_seen_first():
    data = TranscriptionData.model_validate(
        {
            "agent_id": "agent_front",
            "conversation_id": "conv_1",
            "visited_agents": [{"agent_id": "agent_front"}, "not an object", {"agent_id": "agent_billing"}],
            "transcript": [
                {"role": "agent", "message": "hi", "agent_metadata": {"agent_id": "agent_front"}},
                {
                    "role": "agent",
                    "message": None,
                    "agent_metadata": "not an object",
                    "tool_results": [
                        {
                            "result": {
                                "result_type": "transfer_to_agent_success",
                                "from_agent": "agent_billing",
                                "to_agent": "agent_claims",
                            }
                        },
                        {"result_value": "{not json transfer_to_agent"},
                        {
                            "result_value": json.dumps(
                                {
                                    "result_type": "transfer_to_agent_error",
                                    "from_agent": "agent_x",
                                    "error": "no",
                                }
                            )
                        },
                    ],
                },
                {"role": "agent", "message": "ok", "agent_metadata": {"agent_id": "agent_claims "}},
            ],
        }
    )
    assert conversation_agents(data) == ("agent_front", "agent_billing", "agent_claims")
    assert agents_in_scope(data, MemoryScope.CALLER) == [None]
    assert agents_in_scope(data, MemoryScope.CALLER_AND_AGENT) == [
        "agent_front",
        "agent_billing",
        "agent_claims",
    ]
    plain = TranscriptionData.model_validate(
        {"agent_id": "agent_front", "conversation_id": "c", "visited_agents": None}
    )
    assert conversation_agents(plain) == ("agent_front",)


def test_an_agent_transferred_to_keeps_its_receipts_apart_and_the_first_agent_keeps_its_key():
    first = receipt_key(MARGARET, "conv_1", "transcript")
    later = receipt_key(MARGARET, "conv_1", "transcript", "agent_billing")
    assert first == f"memory-adds/{MARGARET}/conv_1/transcript.json"
    assert later == f"memory-adds/{MARGARET}/conv_1/agent_billing/transcript.json"
