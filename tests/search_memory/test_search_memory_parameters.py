"""The search_memory tool takes what ElevenLabs can send: JSON, a form, the query string of a POST;
the query under query, message, text or question; the caller under user_id or caller_id."""

import json
from urllib.parse import urlencode

import pytest
from helpers import api_event, lambda_context, memory_texts, response_json

from agentic_memory.ports import ChatMessage
from services.search_memory.handler import lambda_handler as search_memory

CALLER = "+15550100123"
BISCUIT = "I have a dog named Biscuit"


@pytest.fixture
def remembered(deps):
    deps.memory.add(
        CALLER,
        [ChatMessage(role="user", content=text) for text in (BISCUIT, "My grandson's wedding is in June")],
        {"type": "semantic"},
    )
    return deps


def call(method: str, body: bytes = b"", content_type: str | None = None, query: str = "") -> dict:
    headers = {"Content-Type": content_type} if content_type else {}
    return search_memory(api_event(method, "/retrieve", body, headers, query), lambda_context("retrieve"))


def test_a_form_encoded_tool_call_finds_the_callers_memories(remembered) -> None:
    # Given a tool whose content_type is application/x-www-form-urlencoded
    body = urlencode({"query": "what is the dog called", "user_id": CALLER}).encode()

    # When ElevenLabs calls it
    response = call("POST", body, "application/x-www-form-urlencoded; charset=utf-8")

    # Then the form is read and the dog is found
    assert response["statusCode"] == 200
    assert memory_texts(response)[0] == BISCUIT


def test_a_message_body_as_mem0s_own_tools_send_it_finds_the_callers_memories(remembered) -> None:
    body = json.dumps({"message": "what is the dog called", "user_id": CALLER}).encode()

    response = call("POST", body, "application/json")

    assert memory_texts(response)[0] == BISCUIT


@pytest.mark.parametrize("query_name", ["query", "message", "text", "question"])
@pytest.mark.parametrize("caller_name", ["user_id", "caller_id"])
def test_every_query_and_caller_name_is_understood_in_json_and_in_a_form(
    remembered, query_name: str, caller_name: str
) -> None:
    parameters = {query_name: "the dog's name", caller_name: CALLER}

    as_json = call("POST", json.dumps(parameters).encode(), "application/json")
    as_form = call("POST", urlencode(parameters).encode(), "application/x-www-form-urlencoded")

    assert memory_texts(as_json)[0] == BISCUIT
    assert memory_texts(as_form)[0] == BISCUIT


def test_a_post_with_its_parameters_in_the_query_string_and_no_body_finds_memories(remembered) -> None:
    query = urlencode({"question": "dog", "caller_id": CALLER})

    response = call("POST", b"", "application/json", query=query)

    assert memory_texts(response)[0] == BISCUIT


def test_the_caller_in_the_query_string_and_the_question_in_the_body_are_combined(remembered) -> None:
    # A tool definition can put the caller in the URL ({{system__caller_id}}) and the LLM's text in the body.
    response = call("POST", json.dumps({"text": "dog"}).encode(), "application/json", f"caller_id={CALLER}")

    assert memory_texts(response)[0] == BISCUIT


def test_without_a_content_type_a_json_body_and_a_form_are_both_recognised(remembered) -> None:
    as_json = call("POST", json.dumps({"query": "dog", "user_id": CALLER}).encode())
    as_form = call("POST", urlencode({"query": "dog", "user_id": CALLER}).encode(), "text/plain")

    assert memory_texts(as_json)[0] == BISCUIT
    assert memory_texts(as_form)[0] == BISCUIT


def test_a_form_without_a_query_is_a_clear_400(remembered) -> None:
    response = call("POST", urlencode({"user_id": CALLER}).encode(), "application/x-www-form-urlencoded")

    assert response["statusCode"] == 400
    assert response_json(response)["error"] == "bad_request"
    assert "query" in response_json(response)["detail"]


def test_a_body_declared_json_that_is_not_json_is_a_clear_400(remembered) -> None:
    response = call("POST", b"query=dog&user_id=1", "application/json")

    assert response["statusCode"] == 400
    assert "not valid JSON" in response_json(response)["detail"]
