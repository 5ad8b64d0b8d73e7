"""Locust scenarios: simulated calls, and each route on its own.

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8080            # every user class
    locust -f loadtests/locustfile.py --host ... ConversationInitiationUser                  # one route alone

A simulated call is one pre-call, a few ``search_memory`` calls, then a signed transcription and an
audio webhook for the same conversation, for a mix of new and returning callers. Every response is
checked (status, shape, the greeting uses the caller's name once the caller is known), not only
timed; the latency gate runs when Locust quits (``loadtests/gate.py``).

Environment: ELEVENLABS_WORKSPACE_KEY, ELEVENLABS_HMAC_KEY, ELEVENLABS_TOOL_KEY (optional),
LOAD_CALLER_POOL (default 200 numbers), LOAD_RETURNING_RATIO (default 0.5), LOAD_TURN_SECONDS
(default "0.5,2": the pause between the steps of a call), LOAD_LONG_HISTORY (the past-call counts of
the callers whose briefs ``run_load`` seeded, e.g. "100,500"; their pre-calls are timed as their own
route, ``POST /client-data long-history``), and the gate's
LOAD_BUDGET_*_MS and LOAD_RESULTS_DIR.
"""

import os
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gate  # noqa: E402
import scenarios  # noqa: E402
from checks import DEGRADED, check_initiation, check_long_history_initiation, check_search  # noqa: E402

# run_load.py chooses the seed against a stack, so that it can list the callers for clean-up.
POOL = scenarios.CallerPool(
    size=int(os.environ.get("LOAD_CALLER_POOL", "200")),
    **({"seed": int(os.environ["LOAD_CALLER_SEED"])} if os.environ.get("LOAD_CALLER_SEED") else {}),
)
RETURNING_RATIO = float(os.environ.get("LOAD_RETURNING_RATIO", "0.5"))
# Seconds between the steps of a simulated call (LOAD_TURN_SECONDS="min,max").
TURN_SECONDS = tuple(float(v) for v in os.environ.get("LOAD_TURN_SECONDS", "0.5,2").split(","))[:2]
LONG_HISTORY = scenarios.long_history_sizes(os.environ.get("LOAD_LONG_HISTORY"))
DEGRADED_ANSWERS: Counter[str] = Counter()
_DEGRADED_LOCK = threading.Lock()


def _keys() -> dict[str, str]:
    def first(name: str) -> str:
        return (os.environ.get(name) or "").split(",")[0].strip()

    return {
        "workspace": first("ELEVENLABS_WORKSPACE_KEY"),
        "hmac": first("ELEVENLABS_HMAC_KEY"),
        "tool": first("ELEVENLABS_TOOL_KEY"),
    }


class _MemoryClient(HttpUser):
    abstract = True
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.keys = _keys()

    def initiate_conversation(self, caller: str) -> None:
        # New and pool callers apart: a caller's first pre-call reads no brief.
        known = POOL.is_known(caller)
        with self.client.post(
            "/client-data",
            data=scenarios.initiation_body(caller),
            name="POST /client-data" if known else gate.NEW_CALLER_ROUTE,
            headers={"X-Workspace-Key": self.keys["workspace"], "Content-Type": "application/json"},
            catch_response=True,
        ) as response:
            problem = check_initiation(response.status_code, _json(response), caller, known)
            _judge(response, problem, "POST /client-data" if known else gate.NEW_CALLER_ROUTE)

    def search(self, caller: str, method: str) -> None:
        query = random.choice(scenarios.SEARCH_QUERIES)
        headers = {"X-Tool-Key": self.keys["tool"]} if self.keys["tool"] else {}
        if method == "GET":
            request = self.client.get(
                "/retrieve",
                params={"query": query, "user_id": caller},
                headers=headers,
                name="GET /retrieve",
                catch_response=True,
            )
        else:
            request = self.client.post(
                "/retrieve",
                json={"query": query, "user_id": caller},
                headers=headers,
                name="POST /retrieve",
                catch_response=True,
            )
        with request as response:
            _judge(response, check_search(response.status_code, _json(response)), f"{method} /retrieve")

    def post_call(self, body: bytes, name: str) -> bool:
        with self.client.post(
            "/post-call",
            data=body,
            headers=scenarios.signed(body, self.keys["hmac"]),
            name=name,
            catch_response=True,
        ) as response:
            problem = (
                None
                if response.status_code == 200 and _json(response) == {"status": "ok"}
                else (f"post-call answered {response.status_code}: {response.text[:200]}")
            )
            _judge(response, problem, name)
            return problem is None


class CallerUser(_MemoryClient):
    """A whole call, start to end, paced like a (very short) conversation: the agent searches its
    memory between turns, not back to back, and the call ends a moment after the last search."""

    weight = 3

    @task
    def call(self) -> None:
        caller = POOL.pick(RETURNING_RATIO)
        conversation_id = scenarios.new_conversation_id()
        self.initiate_conversation(caller)
        for _ in range(random.randint(1, 3)):
            time.sleep(random.uniform(*TURN_SECONDS))  # gevent-aware inside Locust
            self.search(caller, random.choice(("GET", "POST")))
        time.sleep(random.uniform(*TURN_SECONDS))
        if self.post_call(scenarios.transcription_body(caller, conversation_id), gate.TRANSCRIPTION_ROUTE):
            POOL.acknowledged(caller)
        self.post_call(scenarios.audio_body(conversation_id), gate.AUDIO_ROUTE)


class LongHistoryUser(_MemoryClient):
    """Pre-calls of the seeded callers with long histories (100, 500 past calls): the same budget as
    any pre-call, timed apart so the gate can show their figures beside new callers'."""

    weight = 1

    @task
    def long_history_initiation(self) -> None:
        if not LONG_HISTORY:
            return  # nothing was seeded (a run against a deployed stack)
        calls = random.choice(LONG_HISTORY)
        caller = scenarios.long_history_caller(calls)
        with self.client.post(
            "/client-data",
            data=scenarios.initiation_body(caller),
            name=scenarios.LONG_HISTORY_ROUTE,
            headers={"X-Workspace-Key": self.keys["workspace"], "Content-Type": "application/json"},
            catch_response=True,
        ) as response:
            problem = check_long_history_initiation(response.status_code, _json(response), caller, calls)
            _judge(response, problem, scenarios.LONG_HISTORY_ROUTE)


class ConversationInitiationUser(_MemoryClient):
    weight = 1

    @task
    def initiation_only(self) -> None:
        self.initiate_conversation(POOL.pick(RETURNING_RATIO))


class SearchMemoryUser(_MemoryClient):
    weight = 1

    @task
    def search_only(self) -> None:
        self.search(POOL.pick(RETURNING_RATIO), random.choice(("GET", "POST")))


class PostCallUser(_MemoryClient):
    weight = 1

    @task
    def transcription_only(self) -> None:
        caller = POOL.number(random.randrange(POOL.size))
        if self.post_call(
            scenarios.transcription_body(caller, scenarios.new_conversation_id()), gate.TRANSCRIPTION_ROUTE
        ):
            POOL.acknowledged(caller)


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _judge(response: Any, problem: str | None, route: str) -> None:
    if problem is None:
        response.success()
    elif problem.startswith(DEGRADED):
        response.success()  # well-formed and in time; the gate holds the ratio of these to a limit
        with _DEGRADED_LOCK:
            DEGRADED_ANSWERS[route] += 1
    else:
        response.failure(problem)


@events.quitting.add_listener
def _apply_gate(environment: Any, **_: Any) -> None:
    gate.apply(environment, dict(DEGRADED_ANSWERS))
