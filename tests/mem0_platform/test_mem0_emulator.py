"""The Mem0 Platform emulator itself, spoken to over HTTP as any client would: the documented Platform
behaviour it reproduces, the shapes it answers, and the knobs tests and load tests turn."""

import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from platform_support import CALLER

from devtools.mem0_emulator import Latency, Mem0Emulator, lexical_score, start_emulator


@pytest.fixture
def http(emulator: Mem0Emulator, api_key: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=emulator.url, headers={"Authorization": f"Token {api_key}"}, timeout=5
    ) as client:
        yield client


def add(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/v3/memories/add/", json={"infer": False, **body})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def listed(http: httpx.Client, filters: dict[str, Any], **query: Any) -> dict[str, Any]:
    response = http.post("/v3/memories/", params=query, json={"filters": filters})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


# -- the Platform's documented behaviour -------------------------------------------------------------------


def test_every_endpoint_wants_a_token_it_knows(emulator: Mem0Emulator, api_key: str):
    assert httpx.get(f"{emulator.url}/v1/ping/").status_code == 401
    wrong = httpx.get(f"{emulator.url}/v1/ping/", headers={"Authorization": "Token m0-not-this-one"})
    assert wrong.status_code == 401
    assert "detail" in wrong.json()
    ping = httpx.get(f"{emulator.url}/v1/ping/", headers={"Authorization": f"Token {api_key}"})
    assert ping.status_code == 200
    assert {"status", "org_id", "project_id"} <= set(ping.json())


def test_direct_import_keeps_only_the_user_s_messages_verbatim(http: httpx.Client):
    answer = add(
        http,
        messages=[
            {"role": "user", "content": "Alice loves badminton"},
            {"role": "assistant", "content": "That's great!"},
            {"role": "user", "content": "Alice cooks at home"},
        ],
        user_id="alice",
        metadata={"type": "semantic"},
    )
    assert [r["data"]["memory"] for r in answer["results"]] == [
        "Alice loves badminton",
        "Alice cooks at home",
    ]
    assert all(r["event"] == "ADD" and r["id"] for r in answer["results"])
    stored = listed(http, {"user_id": "alice"})["results"]
    assert sorted(m["memory"] for m in stored) == ["Alice cooks at home", "Alice loves badminton"]
    assert all(m["metadata"] == {"type": "semantic"} for m in stored)


def test_an_inferred_add_is_accepted_as_a_pending_event(http: httpx.Client):
    response = http.post(
        "/v3/memories/add/", json={"messages": [{"role": "user", "content": "hi"}], "user_id": "u"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "PENDING"


def test_an_inferred_add_extracts_the_users_first_person_facts_with_the_adds_metadata(
    http: httpx.Client, emulator: Mem0Emulator
):
    # Given Mem0 still extracting
    emulator.configure(extraction_seconds=3600)
    messages = [
        {"role": "assistant", "content": "I am your assistant. What brings you here today?"},
        {"role": "user", "content": "My dog Biscuit needs his shots. Okay. I live in Leeds now."},
        {"role": "user", "content": "my dog biscuit needs his shots!"},
    ]
    body = {"messages": messages, "user_id": "alice", "metadata": {"conversation_id": "c1"}}
    event_id = http.post("/v3/memories/add/", json=body).json()["event_id"]
    # Then the event is pending and nothing is listed yet
    assert http.get(f"/v1/event/{event_id}/").json()["status"] == "PENDING"
    assert listed(http, {"user_id": "alice"})["results"] == []
    # When extraction runs
    assert http.post("/_emulator/settle").json() == {"settled": 1}
    # Then the user's first-person sentences are the memories (once each, none of the assistant's)
    event = http.get(f"/v1/event/{event_id}/").json()
    assert event["status"] == "SUCCEEDED" and len(event["results"]) == 2
    stored = listed(http, {"user_id": "alice"})["results"]
    assert sorted(m["memory"] for m in stored) == ["I live in Leeds now.", "My dog Biscuit needs his shots."]
    assert all(m["metadata"] == {"conversation_id": "c1"} for m in stored)


def test_a_user_id_filter_leaves_out_memories_with_an_agent(http: httpx.Client):
    # Given one memory of the user alone and one of the user with an agent (an entity)
    add(http, messages=[{"role": "user", "content": "plain memory"}], user_id="bob")
    add(http, messages=[{"role": "user", "content": "agent memory"}], user_id="bob", agent_id="planner")
    # Then a filter on the user alone finds only the first (implicit null scoping) ...
    assert [m["memory"] for m in listed(http, {"user_id": "bob"})["results"]] == ["plain memory"]
    # ... and naming the agent, even by wildcard, finds the second
    with_agent = listed(http, {"AND": [{"user_id": "bob"}, {"agent_id": "*"}]})["results"]
    assert [m["memory"] for m in with_agent] == ["agent memory"]


def test_entity_ids_at_the_top_level_of_reads_are_refused(http: httpx.Client):
    search = http.post("/v3/memories/search/", json={"query": "x", "user_id": "bob"})
    listing = http.post("/v3/memories/", json={"user_id": "bob"})
    assert (search.status_code, listing.status_code) == (400, 400)
    assert "filters" in search.json()["detail"]


def test_search_scores_in_0_1_and_honours_top_k_and_threshold(http: httpx.Client):
    texts = ["The dog is called Biscuit", "The dog likes long walks", "The cat sleeps all day"]
    add(http, messages=[{"role": "user", "content": t} for t in texts], user_id=CALLER)

    def search(**body: Any) -> list[dict[str, Any]]:
        response = http.post("/v3/memories/search/", json={"filters": {"user_id": CALLER}, **body})
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    found = search(query="what is the dog called")
    assert [r["memory"] for r in found] == ["The dog is called Biscuit", "The dog likes long walks"]
    assert all(0 < r["score"] <= 1 and {"id", "created_at", "metadata"} <= set(r) for r in found)
    assert len(search(query="what is the dog called", top_k=1)) == 1
    assert [r["memory"] for r in search(query="what is the dog called", threshold=0.9)] == [
        "The dog is called Biscuit"
    ]
    assert (
        http.post(
            "/v3/memories/search/", json={"query": "x", "filters": {"user_id": "u"}, "top_k": 0}
        ).status_code
        == 400
    )


def test_the_list_is_a_paginated_envelope(http: httpx.Client):
    add(http, messages=[{"role": "user", "content": f"fact {n}"} for n in range(5)], user_id=CALLER)
    first = listed(http, {"user_id": CALLER}, page=1, page_size=2)
    assert first["count"] == 5
    assert first["previous"] is None
    assert first["next"].endswith("/v3/memories/?page=2&page_size=2")
    # Newest first, as the Platform lists them
    assert [m["memory"] for m in first["results"]] == ["fact 4", "fact 3"]
    last = listed(http, {"user_id": CALLER}, page=3, page_size=2)
    assert last["next"] is None
    assert last["previous"].endswith("page=2&page_size=2")
    assert {"id", "memory", "user_id", "session_id", "metadata", "created_at", "updated_at"} <= set(
        last["results"][0]
    )
    beyond = http.post(
        "/v3/memories/", params={"page": 4, "page_size": 2}, json={"filters": {"user_id": CALLER}}
    )
    assert beyond.status_code == 404
    assert listed(http, {"user_id": "nobody"}) == {"count": 0, "next": None, "previous": None, "results": []}


def test_memories_can_be_read_and_deleted_by_id_user_and_entity(http: httpx.Client):
    (first,) = add(http, messages=[{"role": "user", "content": "first"}], user_id=CALLER)["results"]
    add(http, messages=[{"role": "user", "content": "second"}], user_id=CALLER)
    add(http, messages=[{"role": "user", "content": "other"}], user_id="other")
    assert http.get(f"/v1/memories/{first['id']}/").json()["memory"] == "first"
    assert http.delete(f"/v1/memories/{first['id']}/").status_code == 200
    assert http.get(f"/v1/memories/{first['id']}/").status_code == 404
    entities = http.get("/v1/entities/").json()["results"]
    assert {(e["type"], e["name"], e["total_memories"]) for e in entities} == {
        ("user", CALLER, 1),
        ("user", "other", 1),
    }
    assert http.delete("/v1/memories/", params={"user_id": CALLER}).status_code == 200
    assert listed(http, {"user_id": CALLER})["count"] == 0
    assert http.delete("/v1/memories/").status_code == 400
    assert http.delete("/v2/entities/user/other/").status_code == 200
    assert http.delete("/v2/entities/user/other/").status_code == 404
    assert http.get("/v9/unknown/").status_code == 404
    assert http.get("/v3/memories/add/").status_code == 405


def test_connections_are_kept_alive(emulator: Mem0Emulator, http: httpx.Client):
    for _ in range(5):
        assert http.get("/v1/ping/").status_code == 200
    assert emulator.connections_accepted == 1
    assert {r.connection for r in emulator.requests()} == {1}


# -- injected behaviour ----------------------------------------------------------------------------------


def test_faults_can_be_scripted_and_are_recorded(emulator: Mem0Emulator, http: httpx.Client):
    emulator.configure(
        next_faults=["error", "rate_limit", "not_json", "wrong_shape", "ok"], retry_after_seconds=3
    )
    server_error = http.get("/v1/ping/")
    throttled = http.get("/v1/ping/")
    not_json = http.get("/v1/ping/")
    wrong_shape = http.get("/v1/ping/")
    fine = http.get("/v1/ping/")
    assert server_error.status_code == 503
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "3"
    assert throttled.headers["X-RateLimit-Remaining"] == "0"
    assert not_json.headers["Content-Type"] == "text/html"
    assert wrong_shape.json() == {"results": "unavailable", "next": 7}
    assert fine.json()["status"] == "ok"
    assert [r.fault for r in emulator.requests()] == ["error", "rate_limit", "not_json", "wrong_shape", None]


def test_fault_rates_apply_only_to_the_operations_named(emulator: Mem0Emulator, http: httpx.Client):
    emulator.configure(error_rate=1.0, fault_operations=["search"])
    assert http.get("/v1/ping/").status_code == 200
    search = http.post("/v3/memories/search/", json={"query": "x", "filters": {"user_id": "u"}})
    assert search.status_code == 503


def test_a_reset_outage_resets_connections(emulator: Mem0Emulator, http: httpx.Client):
    emulator.configure(outage="reset")
    with pytest.raises(httpx.TransportError):
        http.get("/v1/ping/")
    emulator.configure(outage=None)
    assert http.get("/v1/ping/").status_code == 200


def test_a_refuse_outage_stops_listening_until_it_ends(emulator: Mem0Emulator, api_key: str):
    emulator.configure(outage="refuse")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{emulator.url}/v1/ping/", headers={"Authorization": f"Token {api_key}"})
    emulator.configure(outage=None)
    ping = httpx.get(f"{emulator.url}/v1/ping/", headers={"Authorization": f"Token {api_key}"})
    assert ping.status_code == 200


def test_the_admin_endpoints_drive_the_emulator_over_http(emulator: Mem0Emulator, http: httpx.Client):
    # Configured at run time, as Locust or a shell would
    answer = http.post(
        "/_emulator/config", json={"error_rate": 1.0, "latency": {"kind": "fixed", "seconds": 0.01}}
    )
    assert answer.status_code == 200
    assert answer.json()["error_rate"] == 1.0
    assert http.get("/v1/ping/").status_code == 503
    assert http.get("/_emulator/config").json()["latency"] == {
        "kind": "fixed",
        "seconds": 0.01,
        "p50": 0.0,
        "p95": 0.0,
    }
    # The recorded requests, with the token redacted
    recorded = http.get("/_emulator/requests").json()["requests"]
    assert [(r["method"], r["path"], r["status"]) for r in recorded] == [("GET", "/v1/ping/", 503)]
    assert recorded[0]["headers"]["Authorization"] == "Token ****"
    assert http.get("/_emulator/stats").json()["requests"] == 1
    assert http.post("/_emulator/config", json={"error_rate": 2}).status_code == 400
    assert http.post("/_emulator/config", json={"no_such_setting": 1}).status_code == 400
    # And reset brings back the start: no memories, no requests, no faults
    http.post("/_emulator/config", json={"error_rate": 0})
    add(http, messages=[{"role": "user", "content": "kept until reset"}], user_id=CALLER)
    assert len(http.get("/_emulator/memories", params={"user_id": CALLER}).json()["results"]) == 1
    http.post("/_emulator/config", json={"error_rate": 1.0})
    assert http.post("/_emulator/reset").status_code == 200
    assert http.get("/_emulator/memories").json()["results"] == []
    assert http.get("/v1/ping/").status_code == 200


def test_an_outage_set_over_http_ends_by_itself(emulator: Mem0Emulator, api_key: str):
    answer = httpx.post(f"{emulator.url}/_emulator/config", json={"outage": "refuse", "outage_seconds": 0.3})
    assert answer.json()["outage"] == "refuse"

    def reachable() -> bool:
        try:
            return httpx.get(
                f"{emulator.url}/v1/ping/", headers={"Authorization": f"Token {api_key}"}
            ).is_success
        except httpx.TransportError:
            return False

    refused_seen, deadline = False, time.monotonic() + 10
    while time.monotonic() < deadline and not (refused_seen and reachable()):
        refused_seen = refused_seen or not reachable()
        time.sleep(0.02)
    assert refused_seen
    assert reachable()


def test_the_published_profile_matches_the_published_search_latency():
    # Mem0 search p50 0.148 s / p95 0.200 s (docs/mem0-platform.md), drawn from a seeded generator
    rng = random.Random(7)
    draws = sorted(Latency.lognormal(0.148, 0.200).sample(rng) for _ in range(20_000))
    assert statistics.median(draws) == pytest.approx(0.148, rel=0.03)
    assert draws[int(len(draws) * 0.95)] == pytest.approx(0.200, rel=0.03)
    assert Latency.parse(0.5) == Latency.fixed(0.5)
    assert Latency.parse(None).sample(rng) == 0.0


def test_lexical_scores_are_deterministic_and_bounded():
    assert lexical_score("what is the dog called", "The dog is called Biscuit") == 1.0
    assert lexical_score("what is the dog called", "The cat sleeps") == 0.0
    assert 0 < lexical_score("dog walks", "The dog sleeps") < 1


def test_start_emulator_needs_a_key():
    with pytest.raises(ValueError):
        start_emulator(api_keys=[])


def test_the_command_line_prints_its_url_and_serves(tmp_path: Any):
    command = [sys.executable, "-m", "devtools.mem0_emulator", "--port", "0", "--profile", "none"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        url = process.stdout.readline().strip().removeprefix("MEM0_BASE_URL=")
        key = process.stdout.readline().strip().removeprefix("MEM0_API_KEY=")
        assert banner.startswith("mem0-emulator: listening at http://127.0.0.1:")
        assert url in banner
        assert httpx.get(f"{url}/v1/ping/", headers={"Authorization": f"Token {key}"}).status_code == 200
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
