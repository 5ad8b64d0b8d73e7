"""``memory_context`` for a long relationship: how many calls and since when, the recent calls, the
first call, the calls between by title and what changed in the collected values, within its bound."""

from datetime import timedelta

import pytest
from test_call_context import GREETINGS, MARGARET, START, a_call, brief_of

from agentic_memory.call_context import (
    CONTEXT_BETWEEN_MAX_CHARS,
    CONTEXT_CALL_MAX_CHARS,
    CONTEXT_COLLECTED_MAX_CHARS,
    CONTEXT_MAX_CHARS,
    build_call_context,
)
from agentic_memory.caller_profile import CallFacts, Scalar, decode


def london_call(number: int, summary: str, title: str = "", **collected: Scalar) -> CallFacts:
    return a_call(number, summary, title, timezone="Europe/London", collected=collected)


def context_of(calls: list[CallFacts]) -> str:
    return build_call_context(MARGARET, brief_of(calls), GREETINGS).context


def a_long_summary(number: int) -> str:
    return f"Call {number}: the caller asked about Biscuit's diet and booked a follow-up visit. " * 8


@pytest.mark.parametrize("calls", [19, 32])
def test_a_long_relationship_shows_its_count_first_call_recent_calls_and_the_ones_between(calls: int) -> None:
    # Given a caller with 19 or 32 calls, each with a long summary and a title
    history = [london_call(n, a_long_summary(n), f"Visit {n}") for n in range(calls)]
    # When the next call starts
    lines = context_of(history).splitlines()
    # Then the context says how many calls there were and when the first was
    assert (
        lines[2]
        == f"Previous calls: {calls} (first 2025-06-01, last {(START + timedelta(days=calls - 1)):%Y-%m-%d})."
    )
    # And it shows the newest call at length, several more recent calls, and the first call
    assert lines[3] == "Recent calls, newest first:"
    recent = lines[4 : lines.index("First calls:")]
    recent_calls = [line for line in recent if line.startswith("- ")]
    assert len(recent_calls) >= 5
    assert recent_calls[0].startswith(f"- {(START + timedelta(days=calls - 1)):%A %-d %B %Y}")
    assert CONTEXT_CALL_MAX_CHARS - 20 < len(recent_calls[0]) <= CONTEXT_CALL_MAX_CHARS
    first_calls = lines[lines.index("First calls:") + 1 :]
    assert first_calls[0].startswith("- Sunday 1 June 2025, morning (Visit 0): Call 0:")
    # And the calls between are counted and the newest of them listed by date and title
    [between] = [line for line in lines if line.startswith("Calls between: ")]
    assert between.startswith(f"Calls between: {calls - 12}, newest first: ")
    assert f"{(START + timedelta(days=calls - 11)):%Y-%m-%d} Visit {calls - 11}" in between
    assert len(between) <= CONTEXT_BETWEEN_MAX_CHARS
    # And the whole context stays within its bound
    assert len("\n".join(lines)) <= CONTEXT_MAX_CHARS


def test_each_calls_line_is_cut_after_a_whole_word() -> None:
    # Given thirty calls whose summaries are far longer than a line
    history = [london_call(n, a_long_summary(n), f"Visit {n}") for n in range(30)]
    # When the context is built
    calls = [line for line in context_of(history).splitlines() if line.startswith("- ") and "Visit" in line]
    # Then every line that was cut ends with a whole word of its summary and "…"
    for line in calls:
        assert line.endswith("…")
        number = int(line.split("(Visit ")[1].split(")")[0])
        summary = line.split("): ", 1)[1][:-1]
        assert (a_long_summary(number) + " ").startswith(summary + " ")


def test_what_changed_in_the_collected_values_says_when() -> None:
    # Given a pet called Biscuit in the first calls, and Pudding since the fifth
    history = [
        london_call(n, f"Call {n}.", pet_name="Biscuit" if n < 5 else "Pudding", plan="gold")
        for n in range(8)
    ]
    # When the context is built
    lines = context_of(history).splitlines()
    # Then the pet's line gives the current name, since when, and the former one with its span
    assert "- pet_name: Pudding (since 2025-06-06; before: Biscuit (2025-06-01 to 2025-06-05))" in lines
    assert "- plan: gold" in lines


def test_many_collected_fields_do_not_crowd_out_the_calls() -> None:
    # Given thirty calls, each collecting a field of its own with a long value
    history = [
        london_call(n, a_long_summary(n), f"Visit {n}", **{f"field_{n}": "x " * 60}) for n in range(30)
    ]
    # When the context is built
    context = context_of(history)
    collected = context[context.index("Collected in calls:") :]
    # Then the fields take no more than their share, and the calls are still told
    assert len(collected) <= CONTEXT_COLLECTED_MAX_CHARS
    assert context.count("\n- ") - collected.count("\n- ") >= 6
    assert len(context) <= CONTEXT_MAX_CHARS


def test_a_brief_stored_by_version_1_is_told_as_it_is() -> None:
    # Given a version 1 brief of twelve calls that kept the last ten
    notes = [
        {
            "conversation_id": f"conv_{n:02d}",
            "at": f"2025-06-{n + 1:02d}T09:00:00Z",
            "agent_id": "a",
            "summary": f"Call {n}.",
        }
        for n in range(11, 1, -1)
    ]
    stored = (
        '{"version":1,"caller_id":"+15550100142","call_count":12,"first_call_at":"2025-06-01T09:00:00Z",'
        f'"last_call_at":"2025-06-12T09:00:00Z","recent_calls":{notes!r}}}'
    ).replace("'", '"')
    brief = decode(stored.encode())
    # When the next call starts
    lines = build_call_context(MARGARET, brief, GREETINGS).context.splitlines()
    # Then the agent hears the count and span, the ten calls kept, and that two are not listed
    assert lines[2] == "Previous calls: 12 (first 2025-06-01, last 2025-06-12)."
    assert [line for line in lines if line.startswith("- ")][0].endswith("morning: Call 11.")
    assert len([line for line in lines if line.startswith("- ")]) == 10
    assert "Earlier calls: 2 (not listed)." in lines
