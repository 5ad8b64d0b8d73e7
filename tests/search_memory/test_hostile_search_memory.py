"""Hostile input to the ``search_memory`` tool, ``GET /retrieve`` and ``POST /retrieve``.

Retrieve never writes to the archive; every request here either gets 200 with memories of exactly one
caller (only when the input is valid), or a short JSON 400/401 that reveals no memory.
"""

from urllib.parse import urlencode

import pytest
from helpers import undated
from hostile_support import (
    BLANK_IDS,
    BYTE_EDITS,
    CALLER,
    HOSTILE_IDS,
    HOSTILE_SETTINGS,
    JSON_VALUES,
    MAX_BODY_BYTES,
    NORMALISED_PHONE_FORMS,
    SEARCH_MEMORY_GET,
    TRAVERSAL_IDS,
    Exchange,
    Harness,
    body_of_exactly,
    edited,
    fixture,
    json_bytes,
    parses_as_json,
    raw_fixture,
    truncation_offsets,
    with_value,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from agentic_memory.ports import ChatMessage

OTHER_CALLER = "+15550100999"
CALLERS_MEMORY = "My dog Biscuit needs his vaccinations before June"
OTHER_CALLERS_MEMORY = "My dog Rex is allergic to chicken"
SEARCH = {"query": "dog vaccinations allergic", "user_id": CALLER}


def remember_two_callers(harness: Harness) -> None:
    harness.memory.add(CALLER, [ChatMessage(role="user", content=CALLERS_MEMORY)], {"type": "semantic"})
    harness.memory.add(
        OTHER_CALLER, [ChatMessage(role="user", content=OTHER_CALLERS_MEMORY)], {"type": "semantic"}
    )


def search(harness: Harness, method: str, parameters: dict, headers: dict | None = None) -> Exchange:
    if method == "GET":
        return harness.search_memory_get(parameters, headers)
    return harness.search_memory_post(json_bytes(parameters), headers)


def assert_refused_without_memories(exchange: Exchange, status: int) -> None:
    assert exchange.status == status, (exchange.status, exchange.answer)
    assert "memories" not in exchange.answer
    assert exchange.written == []


# --- malformed and truncated input ----------------------------------------------------------------


def test_every_truncation_of_the_post_fixture_is_a_json_400(hostile_keys, open_settings):
    body = raw_fixture("tool_search_post")
    with Harness(hostile_keys, open_settings) as harness:
        outcomes = [
            (offset, harness.search_memory_post(body[:offset])) for offset in truncation_offsets(len(body))
        ]
        assert harness.archive.objects == {}
    wrong = [
        (offset, e.status)
        for offset, e in outcomes
        if e.status != (200 if parses_as_json(body[:offset]) else 400)
    ]
    assert wrong == []


def test_every_truncation_of_the_get_query_string_is_answered_or_refused_but_never_fails(
    hostile_keys, open_settings
):
    # A cut query string can still be a valid search (a shorter number is still a phone number).
    query = urlencode(fixture("tool_search_get")["query_string"])
    with Harness(hostile_keys, open_settings) as harness:
        statuses = {harness.search_memory_get(query[:offset]).status for offset in range(len(query) + 1)}
        assert harness.archive.objects == {}
    assert statuses <= {200, 400}
    assert 400 in statuses


@pytest.mark.parametrize(
    "body", [b"", b" ", b"null", b"[]", b'"text"', b"0", b"true", b"{", b"{}", b'{"query":'], ids=repr
)
def test_a_post_body_that_is_not_a_search_object_is_400(body, hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        assert_refused_without_memories(harness.search_memory_post(body), 400)


@settings(HOSTILE_SETTINGS, max_examples=150)
@given(body=st.binary(max_size=300))
def test_random_bytes_are_a_json_400(body, hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        assert_refused_without_memories(harness.search_memory_post(body), 400)


@settings(HOSTILE_SETTINGS, max_examples=200)
@given(edits=BYTE_EDITS)
def test_a_mutated_post_body_is_answered_or_refused_but_never_fails_the_handler(
    edits, hostile_keys, open_settings
):
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.search_memory_post(edited(raw_fixture("tool_search_post"), edits))
        assert harness.archive.objects == {}
    assert exchange.status in (200, 400)


@settings(HOSTILE_SETTINGS, max_examples=200)
@given(raw_query=st.text(max_size=120))
def test_any_raw_query_string_is_answered_or_refused_but_never_fails_the_handler(
    raw_query, hostile_keys, open_settings
):
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.search_memory_get(raw_query)
        assert harness.archive.objects == {}
    assert exchange.status in (200, 400)


# --- wrong types ----------------------------------------------------------------------------------

WRONG_VALUES = (None, 42, 4.2, True, [], {}, ["dog"], {"text": "dog"})


@pytest.mark.parametrize("field", ("query", "user_id", "caller_id"))
def test_a_parameter_of_the_wrong_type_is_400(field, hostile_keys, open_settings):
    base = {"query": "dog", "caller_id": CALLER} if field == "caller_id" else SEARCH
    with Harness(hostile_keys, open_settings) as harness:
        remember_two_callers(harness)
        outcomes = [
            (value, harness.search_memory_post(json_bytes(with_value(base, (field,), value))))
            for value in WRONG_VALUES
        ]
        wrapped = [
            (value, harness.search_memory_post(json_bytes({"parameters": with_value(base, (field,), value)})))
            for value in WRONG_VALUES
        ]
    wrong = [
        (value, e.status) for value, e in outcomes + wrapped if e.status != 400 or "memories" in e.answer
    ]
    assert wrong == []


@settings(HOSTILE_SETTINGS, max_examples=200)
@given(field=st.sampled_from(("query", "user_id", "parameters")), value=JSON_VALUES)
def test_any_json_value_in_any_parameter_is_answered_or_refused_but_never_fails_the_handler(
    field, value, hostile_keys, open_settings
):
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.search_memory_post(json_bytes(with_value(SEARCH, (field,), value)))
    assert exchange.status in (200, 400)


# --- unicode, control characters and huge strings -------------------------------------------------


@settings(HOSTILE_SETTINGS, max_examples=200)
@given(method=st.sampled_from(("GET", "POST")), query=st.text(min_size=1, max_size=300))
def test_any_unicode_query_is_answered_with_the_callers_memories_only(
    method, query, hostile_keys, open_settings
):
    # Given two callers with memories, and a query carrying NUL, controls, RTL overrides, emoji, lookalikes
    with Harness(hostile_keys, open_settings) as harness:
        remember_two_callers(harness)
        # When the first caller's memories are searched with it
        exchange = search(harness, method, {"query": query, "user_id": CALLER})
    # Then the answer holds memories of that caller only
    assert exchange.status == 200, exchange.answer
    assert set(undated(exchange.answer["memories"])) <= {CALLERS_MEMORY}


@pytest.mark.parametrize(
    ("method", "query", "expected"),
    [
        ("GET", "q" * 2000, 200),
        ("GET", "q" * 2001, 400),
        ("POST", "q" * 2000, 200),
        ("POST", "q" * 2001, 400),
        ("POST", "q" * (5 * 1024 * 1024), 400),  # a GET this long is beyond API Gateway's 10 KB request line
    ],
    ids=[
        "GET 2000 characters",
        "GET 2001 characters",
        "POST 2000 characters",
        "POST 2001 characters",
        "POST 5 MB",
    ],
)
def test_a_query_longer_than_the_tool_allows_is_a_short_400(
    method, query, expected, hostile_keys, open_settings
):
    with Harness(hostile_keys, open_settings) as harness:
        exchange = search(harness, method, {"query": query, "user_id": CALLER})
    assert exchange.status == expected


@pytest.mark.parametrize("field", ("query", "user_id"))
def test_escaped_lone_surrogates_are_refused_or_answered_but_never_fail_the_handler(
    field, hostile_keys, open_settings
):
    body = json_bytes(SEARCH).replace(f'"{field}": "'.encode(), f'"{field}": "\\ud800'.encode(), 1)
    with Harness(hostile_keys, open_settings) as harness:
        remember_two_callers(harness)
        exchange = harness.search_memory_post(body)
    assert exchange.status in (200, 400)
    if field == "user_id":
        assert_refused_without_memories(exchange, 400)


# --- user_id: traversal, separators, another caller -----------------------------------------------


@pytest.mark.parametrize("method", ("GET", "POST"))
@pytest.mark.parametrize("name", ("user_id", "caller_id"))
def test_a_traversal_or_separator_in_the_user_id_reveals_no_memory(method, name, hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        remember_two_callers(harness)
        outcomes = [
            (hostile, search(harness, method, {"query": "dog", name: hostile}))
            for hostile in TRAVERSAL_IDS + BLANK_IDS + ("x" * 65,)
        ]
        assert harness.archive.objects == {}
    # An id that fits no key is encoded (issue 11): a caller of its own, with no memories; a blank one
    # names nobody and one over the tool's 256 characters is no user id: both are a 400.
    wrong = [
        (hostile, e.status)
        for hostile, e in outcomes
        if (e.status, e.answer.get("memories")) not in ((200, []), (400, None))
        or (e.status == 400) != (not hostile.strip() or len(hostile) > 256)
    ]
    assert wrong == []


@settings(HOSTILE_SETTINGS, max_examples=300)
@given(method=st.sampled_from(("GET", "POST")), hostile=HOSTILE_IDS)
def test_any_user_id_searches_one_safe_caller_or_is_refused(method, hostile, hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        remember_two_callers(harness)
        exchange = search(harness, method, {"query": "dog vaccinations allergic", "user_id": hostile})
        assert harness.archive.objects == {}
    assert exchange.status in (200, 400)
    if exchange.status == 200:
        # Whatever caller the id names, the answer never mixes two callers' memories.
        memories = set(undated(exchange.answer["memories"]))
        assert not {CALLERS_MEMORY, OTHER_CALLERS_MEMORY} <= memories


@pytest.mark.parametrize("form", NORMALISED_PHONE_FORMS, ids=repr)
def test_separators_around_a_phone_number_search_that_callers_memories(form, hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        remember_two_callers(harness)
        exchange = harness.search_memory_post(json_bytes({"query": "dog", "user_id": form}))
    assert exchange.status == 200
    assert undated(exchange.answer["memories"]) == [CALLERS_MEMORY]


def test_a_user_id_given_twice_in_the_query_string_reveals_neither_callers_memories(
    hostile_keys, open_settings
):
    with Harness(hostile_keys, open_settings) as harness:
        remember_two_callers(harness)
        exchange = harness.search_memory_get(
            f"query=dog&user_id=%2B{CALLER[1:]}&user_id=%2B{OTHER_CALLER[1:]}"
        )
    # Refused, or taken as one id of its own (encoded: issue 11) that has no memories.
    assert exchange.endpoint == SEARCH_MEMORY_GET
    if exchange.status == 400:
        assert_refused_without_memories(exchange, 400)
    else:
        assert (exchange.status, exchange.answer) == (200, {"memories": []})


# --- the tool key ---------------------------------------------------------------------------------


def wrong_tool_keys(keys) -> dict[str, dict[str, str]]:
    right = keys.tool
    return {
        "missing": {},
        "empty": {"X-Tool-Key": ""},
        "prefix": {"X-Tool-Key": right[:-1]},
        "suffix": {"X-Tool-Key": right[1:]},
        "extended": {"X-Tool-Key": right + "0"},
        "upper case": {"X-Tool-Key": right.upper()},
        "sent twice (joined by a comma)": {"X-Tool-Key": f"{right},{right}"},
        "the workspace key": {"X-Tool-Key": keys.workspace},
        "the HMAC secret": {"X-Tool-Key": keys.hmac},
        "in the workspace header": {"X-Workspace-Key": right},
        "as a bearer token": {"Authorization": f"Bearer {right}"},
    }


@pytest.mark.parametrize("method", ("GET", "POST"))
def test_with_the_tool_key_required_another_callers_memories_need_the_key(
    method, hostile_keys, guarded_settings
):
    # Given the tool key is required, and another caller's number is asked for
    another = {"query": "dog allergic", "user_id": OTHER_CALLER}
    with Harness(hostile_keys, guarded_settings) as harness:
        remember_two_callers(harness)
        # When it comes without the key, or with any wrong key
        refused = {
            name: search(harness, method, another, headers)
            for name, headers in wrong_tool_keys(hostile_keys).items()
        }
        # Then it is 401 with no memory; only the right key gets an answer
        allowed = search(harness, method, another, {"X-Tool-Key": hostile_keys.tool})
    wrong = {name: e.status for name, e in refused.items() if e.status != 401 or "memories" in e.answer}
    assert wrong == {}
    assert allowed.status == 200
    assert undated(allowed.answer["memories"]) == [OTHER_CALLERS_MEMORY]


@pytest.mark.parametrize(
    "body", [b"{", b"", json_bytes({"query": "dog", "user_id": "../../x"}), b"x" * 1000], ids=repr
)
def test_with_the_tool_key_required_even_a_malformed_search_without_it_is_401(
    body, hostile_keys, guarded_settings
):
    with Harness(hostile_keys, guarded_settings) as harness:
        assert_refused_without_memories(harness.search_memory_post(body, {}), 401)
        assert_refused_without_memories(harness.search_memory_get("user_id=../../x", {}), 401)


def test_with_no_tool_key_configured_any_presented_key_is_ignored(hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        remember_two_callers(harness)
        for headers in wrong_tool_keys(hostile_keys).values():
            exchange = harness.search_memory_post(json_bytes(SEARCH), headers)
            assert exchange.status == 200
            assert undated(exchange.answer["memories"]) == [CALLERS_MEMORY]


def test_a_post_search_at_exactly_the_size_limit_is_still_answered(hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        remember_two_callers(harness)
        exchange = harness.search_memory_post(body_of_exactly(MAX_BODY_BYTES, SEARCH))
    assert exchange.status == 200
    assert undated(exchange.answer["memories"]) == [CALLERS_MEMORY]
