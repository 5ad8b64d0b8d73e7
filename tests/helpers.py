"""Builders the tests share: API Gateway events, signed headers, Lambda contexts, SQS messages."""

import json
from typing import Any

from agentic_memory.local.events import http_api_event, sqs_event_for_object
from agentic_memory.local.lambda_context import LocalLambdaContext
from agentic_memory.signature import HEADER, sign

# The dynamic variables DESIGN.md promises on every pre-call answer, declared here rather than
# imported from the product, so that the tests hold the product to the design.
DESIGN_DYNAMIC_VARIABLES = frozenset(
    {"caller_id", "caller_name", "returning_caller", "memory_count", "memory_summary", "memory_context"}
)


def api_event(
    method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None, query: str = ""
) -> dict[str, Any]:
    return http_api_event(method, path, query, list((headers or {}).items()), body)


def signed_headers(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    return {"Content-Type": "application/json", HEADER: sign(body, secret, timestamp)}


def lambda_context(name: str = "test-function", timeout_seconds: float = 3) -> LocalLambdaContext:
    return LocalLambdaContext(name, timeout_seconds)


def response_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def sqs_event(key: str) -> dict[str, Any]:
    return sqs_event_for_object("test-bucket", key)
