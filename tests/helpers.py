"""Builders the tests share: API Gateway events, signed headers, Lambda contexts, SQS messages."""

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentic_memory.signature import HEADER, sign
from local_runtime.events import http_api_event, sqs_event_for_object
from local_runtime.lambda_context import LocalLambdaContext

# The dynamic variables docs/architecture.md promises on every pre-call answer, declared here rather than
# imported from the product, so that the tests hold the product to the design.
PROMISED_DYNAMIC_VARIABLES = frozenset(
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


DATE_PREFIX = re.compile(r"\[\d{1,2} [A-Z][a-z]+ \d{4}\] ")


def undated(memories: list[str]) -> list[str]:
    """The search tool's memories without their ``[8 May 2023] `` prefixes; fails for an undated one."""
    assert all(DATE_PREFIX.match(memory) for memory in memories), memories
    return [DATE_PREFIX.sub("", memory, count=1) for memory in memories]


def memory_texts(response: dict[str, Any]) -> list[str]:
    """The undated memory texts of a search tool response."""
    return undated(response_json(response)["memories"])


def sqs_event(key: str) -> dict[str, Any]:
    return sqs_event_for_object("test-bucket", key)


def run_cli(
    home: Path, *args: str, timeout: float = 120, **environment: str
) -> subprocess.CompletedProcess[str]:
    """``agentic-memory <args>`` in a child process on the data under ``home``.

    The child gets none of this shell's keys, backends or retention setting (so it works on the
    local data), plus ``environment``.
    """
    own = ("ELEVENLABS_", "MEM0_", "S3_", "RETENTION")
    env = {name: value for name, value in os.environ.items() if not name.startswith(own)}
    env |= {"AGENTIC_MEMORY_HOME": str(home), **environment}
    return subprocess.run(
        [sys.executable, "-m", "local_runtime.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Post-call processing is asynchronous: poll until ``check`` returns something truthy (or time is
    up, then its last answer)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)
