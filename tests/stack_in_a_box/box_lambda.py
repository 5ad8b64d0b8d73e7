"""Lambda execution environments: one long-lived Python 3.12 interpreter per function.

Each environment is ``python3.12 -I -S lambda_bootstrap.py``: isolated mode (no ``PYTHON*``
variables, no user site, no script folder on the path) and no ``site`` (no site-packages at all),
with the module path set to the unzipped artifact and the runtime's SDK only, the working directory
at the task root, and an environment that is exactly the function's synthesized variables plus what
Lambda itself sets. The first invocation is a cold start (the interpreter starts and the handler's
module is imported); later ones reuse the process, as a warm Lambda environment does.

The only variables Lambda would not set are ``AWS_ENDPOINT_URL`` (moto's server), ``MEM0_BASE_URL``
(the Mem0 emulator, overriding the Platform URL) and ``AWS_CONFIG_FILE`` /
``AWS_SHARED_CREDENTIALS_FILE`` pointing nowhere (Lambda has no ``~/.aws``; neither may the box).
"""

import json
import os
import select
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from box_graph import FunctionPlan

BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
# Lambda gives the Init phase 10 s; a loaded CI machine gets some slack before the box gives up.
INIT_WAIT_SECONDS = 30
# After the function's own timeout, how long the box waits for the answer before killing it.
TIMEOUT_GRACE_SECONDS = 5


class InvocationFailed(RuntimeError):
    """The handler raised (the runtime reports an error), or the environment died or timed out."""


@dataclass
class ColdStart:
    stack: str
    function: str
    spawn_to_ready_ms: float  # interpreter start + handler import, measured from outside
    init_ms: float  # the handler module's import, measured inside (Lambda's Init phase)
    first_invocation_ms: float  # the handler's first call, measured inside (includes SSM, clients)
    warm_invocation_ms: list[float] = field(default_factory=list)
    source: str = ""  # what measured it: the scenario, or the cold-start sampling

    @property
    def cold_total_ms(self) -> float:
        return self.spawn_to_ready_ms + self.first_invocation_ms


@dataclass
class LambdaSetup:
    """What every environment of a session shares: the interpreter, the task root, the SDK."""

    python: Path
    task_root: Path
    sdk: Path
    logs: Path


def lambda_environment(
    function: FunctionPlan,
    setup: LambdaSetup,
    region: str,
    credentials: Mapping[str, str],
    overrides: Mapping[str, str],
) -> dict[str, str]:
    """The function's synthesized environment plus what the Lambda service sets for it."""
    environment = dict(function.environment)
    environment.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "1",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": function.logging.get("logGroup", f"/aws/lambda/{function.name}"),
            "AWS_LAMBDA_LOG_STREAM_NAME": f"box/[1]{uuid.uuid4().hex}",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "AWS_ACCESS_KEY_ID": credentials["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": credentials["secret_access_key"],
            "LAMBDA_TASK_ROOT": str(setup.task_root),
            "LAMBDA_RUNTIME_DIR": str(setup.sdk),
            "_HANDLER": function.handler,
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    # With the JSON log format, Lambda passes the function's log format and application level on.
    if function.logging.get("logFormat"):
        environment["AWS_LAMBDA_LOG_FORMAT"] = function.logging["logFormat"]
    if function.logging.get("applicationLogLevel"):
        environment["AWS_LAMBDA_LOG_LEVEL"] = function.logging["applicationLogLevel"]
    environment.update(overrides)
    return environment


class ExecutionEnvironment:
    """One function's interpreter; ``invoke`` hands it an event and returns the handler's answer."""

    def __init__(
        self,
        stack: str,
        function: FunctionPlan,
        setup: LambdaSetup,
        environment: Mapping[str, str],
        function_arn: str,
    ) -> None:
        self.stack = stack
        self.function = function
        self.log_path = setup.logs / f"{stack}-{function.key}-{uuid.uuid4().hex[:8]}.log"
        reply_read, reply_write = os.pipe()
        command = [
            # -B: Lambda's /var/task is read-only and the zip ships no bytecode, so every cold start
            # compiles the modules it imports; a cache here would understate cold starts about twofold.
            str(setup.python), "-I", "-S", "-B", str(BOOTSTRAP),
            "--handler", function.handler, "--reply-fd", str(reply_write), "--function-arn", function_arn,
            "--path", str(setup.task_root), "--path", str(setup.sdk),
        ]  # fmt: skip
        spawned = time.perf_counter()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(environment),
                cwd=setup.task_root,
                pass_fds=(reply_write,),
            )
        os.close(reply_write)
        self._replies = os.fdopen(reply_read, "r")
        ready = self._reply(INIT_WAIT_SECONDS, "Init")
        if "init_error" in ready:
            self.stop()
            raise InvocationFailed(f"{function.key}: Runtime.ImportModuleError\n{ready['init_error']}")
        self.cold_start = ColdStart(
            stack=stack,
            function=function.key,
            spawn_to_ready_ms=(time.perf_counter() - spawned) * 1000,
            init_ms=ready["init_ms"],
            first_invocation_ms=0.0,
        )
        self.invocations = 0

    def invoke(self, event: Mapping[str, Any]) -> Any:
        """The handler's return value; ``InvocationFailed`` with the traceback if it raised."""
        assert self.process.stdin is not None
        request = {
            "event": event,
            "request_id": str(uuid.uuid4()),
            "timeout_ms": self.function.timeout_seconds * 1000,
        }
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except BrokenPipeError:
            gone = f"{self.function.key}: the environment is gone\n{self.log_tail()}"
            raise InvocationFailed(gone) from None
        answer = self._reply(self.function.timeout_seconds + TIMEOUT_GRACE_SECONDS, "Invoke")
        if self.invocations == 0:
            self.cold_start.first_invocation_ms = answer["duration_ms"]
        else:
            self.cold_start.warm_invocation_ms.append(answer["duration_ms"])
        self.invocations += 1
        if "error" in answer:
            error = answer["error"]
            raise InvocationFailed(
                f"{self.function.key}: {error['errorType']}: {error['errorMessage']}\n{error['stackTrace']}"
            )
        return answer["result"]

    def _reply(self, wait_seconds: float, phase: str) -> dict[str, Any]:
        readable, _, _ = select.select([self._replies], [], [], wait_seconds)
        line = self._replies.readline() if readable else ""
        if not line:
            exited = self.process.poll()
            self.stop()
            reason = f"exited with {exited}" if exited is not None else f"gave no answer in {wait_seconds} s"
            raise InvocationFailed(
                f"{self.function.key}: {phase} failed, the environment {reason}\n{self.log_tail()}"
            )
        reply: dict[str, Any] = json.loads(line)
        return reply

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, characters: int = 4000) -> str:
        return self.log()[-characters:]

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._replies.close()
