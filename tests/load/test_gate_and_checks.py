"""The latency gate's verdicts and the response checks of the Locust scenarios."""

import checks
import gate
import scenarios

from agentic_memory.profile_store import read_profile
from devtools.fakes import InMemoryArchive

FAST = {"requests": 100, "failures": 0, "p50": 40, "p95": 90, "p99": 120, "rps": 5.0}


def figures(**changes):
    return {**FAST, **changes}


def test_the_gate_passes_when_every_route_is_within_budget():
    summary = gate.summarise({"POST /client-data": figures(p95=480), "GET /retrieve": figures(p95=250)}, {})
    assert summary["passed"]
    assert summary["breaches"] == []
    assert "PASSED" in gate.table(summary)


def test_the_gate_fails_on_a_p95_over_budget():
    summary = gate.summarise({"POST /client-data": figures(p95=520)}, {})
    assert not summary["passed"]
    assert summary["breaches"] == ["POST /client-data: p95 520 ms > budget 500 ms"]
    assert "FAILED" in gate.table(summary)


def test_the_gate_fails_on_any_failed_check_even_when_fast():
    summary = gate.summarise({gate.TRANSCRIPTION_ROUTE: figures(failures=1)}, {})
    assert not summary["passed"]


def test_budgets_are_configurable():
    environ = {"LOAD_BUDGET_RETRIEVE_MS": "200"}
    assert not gate.summarise({"POST /retrieve": figures(p95=250)}, environ)["passed"]
    assert gate.budget_ms("POST /retrieve", environ) == 200


def test_answers_without_memory_are_tolerated_up_to_a_ratio():
    routes = {"GET /retrieve": figures(requests=1000)}
    assert gate.summarise(routes, {}, degraded={"GET /retrieve": 10})["passed"]
    failed = gate.summarise(routes, {}, degraded={"GET /retrieve": 11})
    assert not failed["passed"]
    assert "answers without memory" in failed["breaches"][0]
    assert gate.summarise(routes, {"LOAD_MAX_DEGRADED_RATIO": "0.05"}, degraded={"GET /retrieve": 40})[
        "passed"
    ]


def test_a_run_without_requests_fails():
    assert not gate.summarise({}, {})["passed"]


def answer(caller, name="", returning="no", greeting="Hello!"):
    variables = {
        "caller_id": caller,
        "caller_name": name,
        "returning_caller": returning,
        "memory_count": "0",
        "memory_summary": "",
        "memory_context": "",
    }
    return {
        "type": "conversation_initiation_client_data",
        "dynamic_variables": variables,
        "conversation_config_override": {"agent": {"first_message": greeting}},
    }


def test_a_known_caller_must_be_greeted_by_name():
    caller = "+15550201234"
    name = scenarios.name_of(caller)
    assert checks.check_initiation(200, answer(caller), caller, known=False) is None
    assert checks.check_initiation(200, answer(caller), caller, known=True) is not None
    welcomed = answer(caller, name, "yes", "Welcome back!")
    assert "name" in checks.check_initiation(200, welcomed, caller, known=True)
    greeted = answer(caller, name, "yes", f"Welcome back, {name}!")
    assert checks.check_initiation(200, greeted, caller, known=True) is None


def test_a_missing_or_non_string_variable_fails_the_check():
    caller = "+15550201234"
    body = answer(caller)
    body["dynamic_variables"]["memory_count"] = 0
    assert "memory_count" in checks.check_initiation(200, body, caller, known=False)
    assert checks.check_initiation(500, None, caller, known=False) is not None


def test_search_answers_must_be_lists_of_strings():
    assert checks.check_search(200, {"memories": ["a", "b"]}) is None
    assert checks.check_search(200, {"memories": [{"memory": "a"}]}) is not None
    assert checks.check_search(401, {"error": "x"}) is not None
    assert checks.check_search(200, {"memories": [], "note": "unavailable"}).startswith(checks.DEGRADED)


def test_simulated_transcriptions_carry_the_callers_number_and_name():
    body = scenarios.transcription_body("+15550209999", "conv_load_test_1").decode()
    assert "+15550209999" in body
    assert scenarios.name_of("+15550209999") in body
    assert scenarios.FIXTURE_CALLER not in body


def test_the_gate_sets_long_history_callers_initiations_beside_new_callers():
    # Given a run whose long-history pre-calls are as fast as new callers'
    routes = {
        gate.NEW_CALLER_ROUTE: figures(p50=44, p95=60),
        gate.LONG_HISTORY_ROUTE: figures(p50=45, p95=66),
    }
    # When it is judged
    summary = gate.summarise(routes, {"LOAD_LONG_HISTORY": "100,500"})
    # Then it passes, and the comparison is reported
    assert summary["passed"]
    assert summary["long_history"] == {
        "long_history": {"p50": 45, "p95": 66},
        "new_callers": {"p50": 44, "p95": 60},
        "p95_ratio": 1.1,
    }
    assert "long-history callers: p50 45 ms, p95 66 ms; new callers: p50 44 ms" in gate.table(summary)


def test_long_history_callers_are_held_to_the_initiation_budget():
    summary = gate.summarise({gate.LONG_HISTORY_ROUTE: figures(p95=540)}, {"LOAD_LONG_HISTORY": "500"})
    assert summary["breaches"] == [f"{gate.LONG_HISTORY_ROUTE}: p95 540 ms > budget 500 ms"]


def test_seeded_callers_that_were_never_called_fail_the_gate():
    summary = gate.summarise({gate.NEW_CALLER_ROUTE: figures()}, {"LOAD_LONG_HISTORY": "100,500"})
    assert summary["breaches"] == [f"{gate.LONG_HISTORY_ROUTE}: callers were seeded but none was called"]
    assert gate.summarise({gate.NEW_CALLER_ROUTE: figures()}, {})["long_history"] is None


def test_a_seeded_caller_is_greeted_by_name_with_every_past_call_counted():
    # Given the briefs seeded for callers with 100 and 500 past calls
    archive = InMemoryArchive()
    scenarios.seed_long_histories(archive, (100, 500))
    caller = scenarios.long_history_caller(500)
    brief = read_profile(archive, caller)
    # Then the brief counts them all, under the name the checks expect
    assert brief is not None and brief.call_count == 500 and brief.name.name == scenarios.name_of(caller)
    # And the check wants that count and that name
    name = scenarios.name_of(caller)
    greeted = answer(caller, name, "yes", f"Welcome back, {name}!")
    greeted["dynamic_variables"]["memory_count"] = "500"
    assert checks.check_long_history_initiation(200, greeted, caller, 500) is None
    assert (
        checks.check_long_history_initiation(200, greeted, caller, 100)
        == "a caller with 100 past calls was told 500"
    )
    assert checks.check_long_history_initiation(200, answer(caller), caller, 500).startswith(checks.DEGRADED)
