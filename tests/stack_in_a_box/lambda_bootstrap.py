"""One Lambda execution environment: run inside ``python3.12 -I -S`` by ``box_lambda``, never imported.

What the Lambda Python runtime does, reduced to what the handlers can observe: the module path holds
only the function's code (``LAMBDA_TASK_ROOT``) and the runtime's own boto3/botocore; the handler's
module is imported once (the Init phase), then each event is handed to the handler with a context
object and the answer goes back. The process stays up between events, so module state (caches, the
clients, the secrets read from SSM) carries over exactly as in a warm environment.

Protocol: one JSON object per line on standard input (``{"event", "request_id", "timeout_ms"}``),
one JSON object per line on the reply file descriptor (``--reply-fd``): first ``{"ready", "init_ms"}``
or ``{"init_error"}``, then per event ``{"result", "duration_ms"}`` or ``{"error"}``. Standard output
and standard error stay the function's log stream (Powertools' JSON logs and EMF metrics).

Only the standard library may be imported before the path is set: anything else would come from the
interpreter's own site-packages, which ``-S`` leaves out on purpose.
"""

import argparse
import importlib
import ipaddress
import json
import os
import socket
import sys
import time
import traceback
from typing import Any


class LambdaContext:
    """The attributes and method of the runtime's context object that handlers and Powertools use."""

    def __init__(self, request_id: str, timeout_ms: int, invoked_function_arn: str) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        # The runtime reads it from the environment: a string, as here.
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.invoked_function_arn = invoked_function_arn
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def refuse_leaving_the_machine() -> None:
    """The same guard as the test suite's: a function that tries a non-loopback address fails loudly."""
    real_connect = socket.socket.connect

    def loopback_only(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                raise ConnectionRefusedError(f"the stack in a box may not leave the machine (tried {host})")
        return real_connect(sock, address)

    socket.socket.connect = loopback_only  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--handler", required=True)
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--path", action="append", default=[], help="module search path, in order")
    parser.add_argument("--function-arn", required=True)
    arguments = parser.parse_args()
    replies = os.fdopen(arguments.reply_fd, "w", buffering=1)

    def reply(message: dict[str, Any]) -> None:
        replies.write(json.dumps(message) + "\n")

    # The runtime's path: the function's code first, then the runtime's SDK, then the standard library.
    sys.path[:] = [*arguments.path, *sys.path]
    refuse_leaving_the_machine()
    module_name, _, function_name = arguments.handler.rpartition(".")
    started = time.perf_counter()
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except BaseException:  # whatever the import raises is the Init error
        reply({"init_error": traceback.format_exc()})
        return 1
    reply({"ready": True, "init_ms": (time.perf_counter() - started) * 1000})

    for line in sys.stdin:
        request = json.loads(line)
        context = LambdaContext(request["request_id"], request["timeout_ms"], arguments.function_arn)
        started = time.perf_counter()
        try:
            result = handler(request["event"], context)
            reply({"result": result, "duration_ms": (time.perf_counter() - started) * 1000})
        except Exception as error:  # the runtime turns any exception into an invocation error
            reply(
                {
                    "error": {
                        "errorType": type(error).__name__,
                        "errorMessage": str(error),
                        "stackTrace": traceback.format_exc(),
                    },
                    "duration_ms": (time.perf_counter() - started) * 1000,
                }
            )
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
