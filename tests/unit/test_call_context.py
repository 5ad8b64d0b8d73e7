"""What the agent knows when the call starts: greeting, counts, summary and context, bounded."""

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic_memory.call_context import (
    CONTEXT_MAX_CHARS,
    CONTEXT_MAX_SAID,
    SUMMARY_MAX_CHARS,
    Greetings,
    build_call_context,
    count_conversations,
    neutral_call_context,
    render,
)
from agentic_memory.elevenlabs.post_call import PostCallTranscription
from agentic_memory.fakes import InMemoryMemoryStore
from agentic_memory.local.fixtures import load_fixture
from agentic_memory.memory_building import memories_of
from agentic_memory.ports import MemoryRecord

MARGARET = "+15550100142"
GREETINGS = Greetings(
    welcome="Hello! Who am I speaking with?",
    returning="Welcome back, {name}!",
    returning_without_name="Welcome back!",
)
_ids = itertools.count(1)


def record(text: str, **metadata: Any) -> MemoryRecord:
    return MemoryRecord(id=f"mem-{next(_ids)}", text=text, metadata=metadata)


def margaret_memories(*fixtures: str) -> list[MemoryRecord]:
    store = InMemoryMemoryStore()
    for fixture in fixtures:
        data = PostCallTranscription.model_validate(load_fixture(fixture)).data
        for draft in memories_of(data):
            store.add(MARGARET, draft.messages, draft.metadata)
    return store.list_all(MARGARET)


def test_new_caller_gets_the_welcome_and_empty_memory() -> None:
    context = build_call_context("+15550100199", [], GREETINGS)

    assert context.first_message == "Hello! Who am I speaking with?"
    assert context.dynamic_variables() == {
        "caller_id": "+15550100199",
        "caller_name": "",
        "returning_caller": "no",
        "memory_count": "0",
        "memory_summary": "",
        "memory_context": "",
    }


def test_returning_caller_is_greeted_by_name() -> None:
    context = build_call_context(MARGARET, margaret_memories("transcription_twilio_inbound"), GREETINGS)

    assert context.caller_name == "Margaret"
    assert context.first_message == "Welcome back, Margaret!"
    assert context.dynamic_variables()["returning_caller"] == "yes"


def test_returning_caller_without_a_known_name_gets_the_nameless_greeting() -> None:
    memories = [record("Asked about opening hours.", type="factual", conversation_id="conv_a")]

    context = build_call_context(MARGARET, memories, GREETINGS)

    assert context.caller_name == ""
    assert context.first_message == "Welcome back!"


def test_memory_count_counts_conversations_not_memories() -> None:
    memories = margaret_memories("transcription_twilio_inbound", "transcription_returning_caller")
    assert len(memories) > 2

    context = build_call_context(MARGARET, memories, GREETINGS)

    assert context.dynamic_variables()["memory_count"] == "2"


def test_memories_without_conversation_ids_count_as_one_conversation() -> None:
    assert count_conversations([record("a"), record("b"), record("c")]) == 1
    assert count_conversations([]) == 0


def test_summary_names_the_count_and_the_latest_call() -> None:
    memories = margaret_memories("transcription_twilio_inbound", "transcription_returning_caller")

    summary = build_call_context(MARGARET, memories, GREETINGS).summary

    assert summary.startswith(
        "2 previous calls. Last call: Call on 2025-12-02 (Vaccination certificate request)"
    )


def test_context_holds_name_count_facts_and_what_the_caller_said() -> None:
    context = build_call_context(
        MARGARET, margaret_memories("transcription_twilio_inbound"), GREETINGS
    ).context

    lines = context.splitlines()
    assert lines[:3] == ["Caller's name: Margaret.", "Previous calls: 1.", "What we know from earlier calls:"]
    assert "Things the caller said recently:" in lines
    assert any("Biscuit" in line and "June" in line for line in lines)


def test_context_leaves_out_what_the_agent_said() -> None:
    context = build_call_context(
        MARGARET, margaret_memories("transcription_twilio_inbound"), GREETINGS
    ).context

    assert "My name is Ada" not in context


def test_context_quotes_at_most_the_configured_number_of_caller_lines() -> None:
    memories = [
        record(
            f"Said line {n}.",
            type="semantic",
            role="user",
            conversation_id="conv_a",
            timestamp=f"2025-11-{n:02d}",
        )
        for n in range(1, 20)
    ]

    context = build_call_context(MARGARET, memories, GREETINGS).context

    quoted = [line for line in context.splitlines() if line.startswith("- Said line")]
    assert len(quoted) == CONTEXT_MAX_SAID
    assert quoted[0] == "- Said line 19."


def test_summary_and_context_are_bounded_for_a_long_history() -> None:
    memories = [
        record("Call on 2025-11-18: " + "Biscuit " * 200, type="factual", conversation_id=f"conv_{n}")
        for n in range(50)
    ]

    context = build_call_context(MARGARET, memories, GREETINGS)

    assert len(context.summary) <= SUMMARY_MAX_CHARS and context.summary.endswith("…")
    assert len(context.context) <= CONTEXT_MAX_CHARS and context.context.endswith("…")
    assert context.dynamic_variables()["memory_count"] == "50"


@given(
    st.lists(
        st.tuples(st.text(max_size=600), st.sampled_from(["factual", "semantic"]), st.integers(0, 5)),
        max_size=30,
    )
)
def test_any_memories_give_a_bounded_summary_and_context(raw: list[tuple[str, str, int]]) -> None:
    memories = [record(text, type=kind, role="user", conversation_id=f"conv_{n}") for text, kind, n in raw]

    context = build_call_context(MARGARET, memories, GREETINGS)

    assert len(context.summary) <= SUMMARY_MAX_CHARS
    assert len(context.context) <= CONTEXT_MAX_CHARS
    assert all(isinstance(value, str) for value in context.dynamic_variables().values())


def test_neutral_context_promises_nothing_and_welcomes() -> None:
    context = neutral_call_context(MARGARET, GREETINGS)

    assert context.first_message == GREETINGS.welcome
    assert context.dynamic_variables() == {
        "caller_id": MARGARET,
        "caller_name": "",
        "returning_caller": "no",
        "memory_count": "0",
        "memory_summary": "",
        "memory_context": "",
    }


def test_response_without_a_template_sends_no_prompt_override() -> None:
    response = neutral_call_context(MARGARET, GREETINGS).to_response()

    assert response.conversation_config_override is not None
    assert response.conversation_config_override.agent.prompt is None


def test_response_with_a_template_sends_the_rendered_complete_prompt() -> None:
    context = build_call_context(MARGARET, margaret_memories("transcription_twilio_inbound"), GREETINGS)

    response = context.to_response(prompt_template="You help {{caller_name}}.\n{{memory_context}}")

    assert response.conversation_config_override is not None
    prompt = response.conversation_config_override.agent.prompt
    assert prompt is not None
    assert prompt.prompt == "You help Margaret.\n" + context.context


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        ("Hi {{caller_name}}", "Hi Margaret"),
        ("{{caller_name}} and {{caller_name}}", "Margaret and Margaret"),
        ("{{unknown}} stays", "{{unknown}} stays"),
        ("{caller_name} is not a placeholder", "{caller_name} is not a placeholder"),
    ],
)
def test_render_replaces_known_placeholders_only(template: str, rendered: str) -> None:
    assert render(template, {"caller_name": "Margaret"}) == rendered
