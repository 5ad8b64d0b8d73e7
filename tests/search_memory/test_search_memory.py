"""The search_memory tool entry point, by POST body and by GET query string."""

import json
from urllib.parse import urlencode

from helpers import api_event, lambda_context, memory_texts, response_json

from agentic_memory.errors import MemoryUnavailable
from agentic_memory.ports import ChatMessage
from agentic_memory.settings import Settings
from agentic_memory.wiring import Dependencies, use_dependencies
from services.search_memory.handler import lambda_handler as search_memory

CALLER = "+15550100123"


def remember(deps, *texts):
    deps.memory.add(CALLER, [ChatMessage(role="user", content=t) for t in texts], {"type": "semantic"})


def post(body, headers=None):
    return search_memory(
        api_event(
            "POST",
            "/retrieve",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        ),
        lambda_context("retrieve"),
    )


def test_post_finds_the_callers_facts(deps):
    remember(deps, "I have a dog named Biscuit", "My grandson's wedding is in June")
    response = post({"query": "what is the dog called", "user_id": CALLER})
    assert response["statusCode"] == 200
    assert memory_texts(response)[0] == "I have a dog named Biscuit"


def test_get_reads_the_query_string(deps):
    remember(deps, "I have a dog named Biscuit")
    query = urlencode({"query": "dog", "user_id": "+1 555 010 0123"})
    response = search_memory(api_event("GET", "/retrieve", query=query), lambda_context("retrieve"))
    assert memory_texts(response) == ["I have a dog named Biscuit"]


def test_results_are_limited_by_mem0_search_limit_and_scoped_to_the_caller(deps):
    # Given ten memories of the caller, one of another caller, and MEM0_SEARCH_LIMIT=3
    remember(deps, *[f"dog fact number {i}" for i in range(10)])
    deps.memory.add("+15550100999", [ChatMessage(role="user", content="another dog")], {})
    settings = deps.settings.model_copy(update={"mem0_search_limit": 3})
    use_dependencies(Dependencies(settings=settings, memory=deps.memory, archive=deps.archive))
    # When the tool searches
    memories = memory_texts(post({"query": "dog", "user_id": CALLER}))
    # Then three come back, all the caller's own
    assert len(memories) == 3
    assert "another dog" not in memories


def test_missing_query_or_user_is_400(deps):
    for body in ({"user_id": CALLER}, {"query": "dog"}, {"query": "", "user_id": CALLER}):
        response = post(body)
        assert response["statusCode"] == 400
        assert set(response_json(response)) == {"error", "detail"}


def test_a_search_failure_answers_empty_with_a_note(deps):
    deps.memory.fail_with = MemoryUnavailable("timeout")
    body = response_json(post({"query": "dog", "user_id": CALLER}))
    assert body["memories"] == []
    assert body["note"]


def test_the_tool_key_is_required_once_configured(deps, keys):
    settings = Settings.from_environment({"ELEVENLABS_TOOL_KEY": keys["tool"]})
    use_dependencies(Dependencies(settings=settings, memory=deps.memory, archive=deps.archive))
    assert post({"query": "dog", "user_id": CALLER})["statusCode"] == 401
    assert post({"query": "dog", "user_id": CALLER}, {"X-Tool-Key": "wrong"})["statusCode"] == 401
    assert post({"query": "dog", "user_id": CALLER}, {"X-Tool-Key": keys["tool"]})["statusCode"] == 200


def test_a_withheld_caller_finds_no_memories(deps):
    # Given memories that an older version stored under Twilio's "anonymous" placeholder
    for placeholder in ("+266696687", "anonymous"):
        deps.memory.add(placeholder, [ChatMessage(role="user", content="My name is Margaret")], {})
    # When the tool is called for any withheld number, Then it answers 200 with no memories
    for placeholder in ("+266696687", "Anonymous", "sip:anonymous@anonymous.invalid"):
        response = post({"query": "what is my name", "user_id": placeholder})
        assert response["statusCode"] == 200
        assert response_json(response) == {"memories": []}
