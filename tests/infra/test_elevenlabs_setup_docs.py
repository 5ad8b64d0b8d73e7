"""The ElevenLabs configuration shipped in docs/ fits both sides: ElevenLabs' own API models (from the
pinned SDK) and what the deployed functions accept and return."""

import json
import re
from pathlib import Path

import pytest
from elevenlabs.types import ToolRequestModel

from agentic_memory.call_context import Greetings, neutral_call_context
from agentic_memory.elevenlabs.search_memory import SearchMemoryRequest
from infra.secret_config import SECRETS

DOCS = Path(__file__).resolve().parents[2] / "docs"
TOOL = DOCS / "elevenlabs" / "search_memory_tool.json"
PROMPT = DOCS / "elevenlabs" / "agent_prompt.md"
GUIDE = DOCS / "deployment.md"


@pytest.fixture(scope="module")
def tool():
    return ToolRequestModel.model_validate(json.loads(TOOL.read_text())).tool_config


def test_the_tool_definition_is_a_valid_elevenlabs_webhook_tool(tool):
    assert tool.type == "webhook" and tool.name == "search_memory"
    assert tool.api_schema.method == "POST"
    assert 5 <= tool.response_timeout_secs <= 20


def test_the_llm_fills_the_query_but_never_the_caller(tool):
    body = tool.api_schema.request_body_schema
    query, user_id = body.properties["query"], body.properties["user_id"]
    assert query.description and query.dynamic_variable is None
    assert user_id.dynamic_variable == "system__caller_id"
    assert user_id.description is None, "a description would let the LLM provide the value"
    assert set(body.required) == {"query", "user_id"}


def test_the_tool_key_comes_from_a_workspace_secret_not_a_literal(tool):
    header = tool.api_schema.request_headers["X-Tool-Key"]
    assert not isinstance(header, str)
    assert header.secret_id.startswith("REPLACE_WITH")
    assert tool.api_schema.url.startswith("REPLACE_WITH") and "retrieveUrl" in tool.api_schema.url


def test_the_body_elevenlabs_sends_is_what_search_memory_accepts(tool):
    # The body is the schema's object itself (no wrapper), with the dynamic variable filled in.
    sent = {
        name: "+15550100123" if name == "user_id" else "dog's name"
        for name in tool.api_schema.request_body_schema.properties
    }
    request = SearchMemoryRequest.model_validate(sent)
    assert (request.query, request.user_id) == ("dog's name", "+15550100123")


def prompt_template() -> str:
    return PROMPT.read_text().split("```text", 1)[1].split("```", 1)[0]


def test_the_prompt_uses_exactly_the_variables_the_pre_call_webhook_always_returns():
    used = set(re.findall(r"\{\{\s*([a-z_]+)\s*\}\}", prompt_template()))
    greetings = Greetings(welcome="Hello", returning="Hi {name}", returning_without_name="Hi")
    always_returned = set(neutral_call_context("+15550100123", greetings).dynamic_variables())
    assert used == {
        "caller_name",
        "returning_caller",
        "memory_count",
        "memory_summary",
        "memory_context",
        "caller_language",
    }
    assert used <= always_returned
    assert "search_memory" in prompt_template()


def test_the_guide_names_every_output_and_every_secret(synthesized):
    guide = GUIDE.read_text()
    for output in synthesized["dev"].outputs:
        assert f"`{output}`" in guide, output
    for spec in SECRETS:
        assert f"--secret {spec.config_key}" in guide, spec.config_key
    for path in ("elevenlabs/search_memory_tool.json", "elevenlabs/agent_prompt.md"):
        assert path in guide and (DOCS / path).is_file()
