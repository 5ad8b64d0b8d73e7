"""Finding the caller's name: data collection first, then what the caller (never the agent) said."""

import itertools
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic_memory.elevenlabs.post_call import DataCollectionResult
from agentic_memory.names import (
    NAME_FIELDS,
    clean_name,
    name_from_data_collection,
    name_from_memories,
    name_from_text,
)
from agentic_memory.ports import MemoryRecord


def collected(**values: Any) -> dict[str, DataCollectionResult]:
    return {key: DataCollectionResult(data_collection_id=key, value=value) for key, value in values.items()}


_ids = itertools.count(1)


def record(text: str, **metadata: Any) -> MemoryRecord:
    return MemoryRecord(id=f"mem-{next(_ids)}", text=text, metadata=metadata)


def test_collected_first_name_is_the_name() -> None:
    assert name_from_data_collection(collected(first_name="Margaret")) == "Margaret"


def test_collected_fields_are_preferred_in_the_declared_order() -> None:
    results = collected(first_name="Margaret", caller_name="Maggie Brown")

    assert NAME_FIELDS.index("caller_name") < NAME_FIELDS.index("first_name")
    assert name_from_data_collection(results) == "Maggie Brown"


@pytest.mark.parametrize("unusable", [None, "", "unknown", 42, "I did not catch it at all", "R2-D2!"])
def test_an_unusable_collected_value_falls_through_to_the_next_field(unusable: object) -> None:
    results = collected(caller_name=unusable, first_name="margaret")

    assert name_from_data_collection(results) == "Margaret"


def test_no_collected_name_gives_none() -> None:
    assert name_from_data_collection(collected(appointment_day="Thursday")) is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hi, my name is Margaret. I'd like to book a check-up.", "Margaret"),
        ("my name is margaret smith", "Margaret Smith"),
        ("Hello, my name is Margaret and I'm calling about Biscuit.", "Margaret"),
        ("My name's Walter.", "Walter"),
        ("Hi, call me Priya.", "Priya"),
        ("Please call me Sam", "Sam"),
        ("User name is Margaret.", "Margaret"),
        ("The user's name is Ana Lucia.", "Ana Lucia"),
        ("Caller name: José", "José"),
        ("MY NAME IS O'BRIEN", "O'BRIEN"),
    ],
)
def test_name_patterns_find_the_name(text: str, name: str) -> None:
    assert name_from_text(text) == name


@pytest.mark.parametrize(
    "text",
    [
        "Could you call me back?",
        "Call me later, I'm driving.",
        "Can you call me tomorrow?",
        "Call me when it's ready.",
        "Just call me anytime.",
        "My name is not important.",
        "My name is unknown to you.",
        "I'd like to book a check-up for my dog.",
        "",
    ],
)
def test_phrases_that_are_not_names_give_none(text: str) -> None:
    assert name_from_text(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Could you call me in the morning?",
        "Please call me tonight.",
        "Call me next week about it.",
        "Call me any time.",
        "Call me maybe.",
    ],
)
def test_common_call_me_phrases_are_not_names(text: str) -> None:
    assert name_from_text(text) is None


def test_the_newest_name_in_a_text_wins() -> None:
    assert name_from_text("My name is Samuel. Actually, just call me Sam.") == "Sam"


def test_collected_name_in_memory_metadata_beats_a_newer_spoken_one() -> None:
    memories = [
        record(
            "User name is Margaret.",
            type="factual",
            caller_name="Margaret",
            timestamp="2025-11-18T15:04:12+00:00",
        ),
        record("Oh, call me Maggie.", type="semantic", role="user", timestamp="2025-12-02T15:22:10+00:00"),
    ]

    assert name_from_memories(memories) == "Margaret"


def test_the_newest_collected_name_wins() -> None:
    memories = [
        record("x", caller_name="Maggie", timestamp="2025-12-02T15:22:10+00:00"),
        record("y", caller_name="Margaret", timestamp="2025-11-18T15:04:12+00:00"),
    ]

    assert name_from_memories(memories) == "Maggie"


def test_the_newest_spoken_name_wins_without_collected_names() -> None:
    memories = [
        record("My name is Samuel.", role="user", timestamp="2025-11-18T15:04:12+00:00"),
        record("Please call me Sam.", role="user", timestamp="2025-12-02T15:22:10+00:00"),
    ]

    assert name_from_memories(memories) == "Sam"


def test_the_agent_saying_its_own_name_is_ignored() -> None:
    memories = [record("Nice to meet you. My name is Ada, I'm the clinic's assistant.", role="assistant")]

    assert name_from_memories(memories) is None


def test_the_caller_name_is_found_past_a_newer_agent_introduction() -> None:
    memories = [
        record("My name is Ada.", role="assistant", timestamp="2025-12-02T15:22:10+00:00"),
        record("Hi, my name is Margaret.", role="user", timestamp="2025-11-18T15:04:12+00:00"),
    ]

    assert name_from_memories(memories) == "Margaret"


def test_no_memories_no_name() -> None:
    assert name_from_memories([]) is None


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [("  margaret. ", "Margaret"), ("Ana Lucia", "Ana Lucia"), ("the", None), ("a b c d", None), (7, None)],
)
def test_clean_name(raw: object, cleaned: str | None) -> None:
    assert clean_name(raw) == cleaned


@given(st.text(max_size=200))
def test_any_text_yields_no_name_or_at_most_three_short_words(text: str) -> None:
    name = name_from_text(text)

    if name is not None:
        words = name.split(" ")
        assert 1 <= len(words) <= 3
        assert all(0 < len(word) <= 30 for word in words)


@given(
    st.dictionaries(st.sampled_from(NAME_FIELDS), st.one_of(st.none(), st.integers(), st.text(max_size=40)))
)
def test_any_collected_values_never_raise(values: Mapping[str, Any]) -> None:
    name = name_from_data_collection(collected(**values))

    assert name is None or name.strip() == name
