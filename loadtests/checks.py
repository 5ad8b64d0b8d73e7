"""What every load-test response must satisfy, beyond its latency (kept free of Locust imports:
Locust monkey-patches the process, so the unit tests import only this)."""

from typing import Any

import scenarios

# An answer that is well-formed and in time but made without memory (Mem0 slow or down, or the
# caller's last call not processed yet): counted against a tolerated ratio rather than failed.
DEGRADED = "degraded: "

DYNAMIC_VARIABLES = (
    "caller_id",
    "caller_name",
    "returning_caller",
    "memory_count",
    "memory_summary",
    "memory_context",
)


def check_initiation(status: int, body: Any, caller: str, known: bool) -> str | None:
    if status != 200 or not isinstance(body, dict):
        return f"pre-call answered {status}"
    if body.get("type") != "conversation_initiation_client_data":
        return "pre-call answer has the wrong type"
    variables = body.get("dynamic_variables") or {}
    missing = [name for name in DYNAMIC_VARIABLES if not isinstance(variables.get(name), str)]
    if missing:
        return f"dynamic variables missing or not strings: {missing}"
    if variables["caller_id"] != caller:
        return "pre-call answered for another caller"
    first_message = ((body.get("conversation_config_override") or {}).get("agent") or {}).get("first_message")
    if not isinstance(first_message, str) or not first_message:
        return "no first message"
    if known:
        expected = scenarios.name_of(caller)
        if variables["returning_caller"] != "yes" or variables["caller_name"] != expected:
            return DEGRADED + "a known caller was answered without their memories"
        if expected not in first_message:
            return "the greeting does not use the caller's name"
    return None


def check_search(status: int, body: Any) -> str | None:
    if status != 200 or not isinstance(body, dict):
        return f"retrieve answered {status}"
    memories = body.get("memories")
    if not isinstance(memories, list) or not all(isinstance(m, str) for m in memories):
        return "retrieve answer is not {memories: [str]}"
    if body.get("note"):
        return DEGRADED + "retrieve answered without memory (the search failed or timed out)"
    return None


def check_long_history_initiation(status: int, body: Any, caller: str, calls: int) -> str | None:
    """A seeded caller with ``calls`` past calls: greeted by name, with every call counted."""
    problem = check_initiation(status, body, caller, known=True)
    if problem is not None:
        return problem
    if body["dynamic_variables"]["memory_count"] != str(calls):
        return f"a caller with {calls} past calls was told {body['dynamic_variables']['memory_count']}"
    return None
