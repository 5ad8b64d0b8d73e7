"""Benchmark of the local runtime: handler import times and per-route latency, from one run.

    .venv/bin/python loadtests/benchmark.py [--requests 60] [--imports 7]

Import times are medians over fresh interpreters, printed beside the original design's floor
(``from mem0 import MemoryClient`` plus ``import boto3``) measured in the same run. Route latencies
are client-side wall times over one keep-alive connection to a local runtime started for the run,
with the embedded memory and the filesystem archive. Numbers are for this machine only.
"""

import argparse
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "shared"))

from agentic_memory.local.fixtures import load_fixture  # noqa: E402
from agentic_memory.local.sender import rewrite  # noqa: E402
from agentic_memory.signature import HEADER, sign  # noqa: E402

HANDLERS = [
    "services.client_data.handler",
    "services.retrieve.handler",
    "services.post_call.handler",
    "services.post_call.processor",
]
BASELINE = "from mem0 import MemoryClient; import boto3"


def import_seconds(statement: str, runs: int) -> float:
    """Median time of ``statement`` in fresh interpreters (after one run to write .pyc files)."""
    program = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    env = {**os.environ, "MEM0_TELEMETRY": "false", "PYTHONPATH": f"{REPO}:{REPO / 'shared'}"}
    samples = []
    for attempt in range(runs + 1):
        out = subprocess.run(
            [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
        )
        if attempt:
            samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(int(round(fraction * (len(ordered) - 1))), len(ordered) - 1)]


class Runtime:
    def __init__(self, home: Path, port: int, keys: dict[str, str]) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ELEVENLABS_", "MEM0_", "S3_"))}
        env.update(
            {
                "AGENTIC_MEMORY_HOME": str(home),
                "ELEVENLABS_WORKSPACE_KEY": keys["workspace"],
                "ELEVENLABS_HMAC_KEY": keys["hmac"],
                "LOG_LEVEL": "WARNING",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
        )
        self.log = (home / "runtime.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agentic_memory.local.cli", "serve", "--port", str(port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.port = port
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the local runtime did not start; see " + self.log.name)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


def timed_requests(port: int, build, count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    samples = []
    for index in range(count):
        method, path, body, headers = build(index)
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        samples.append(time.perf_counter() - started)
        if response.status != 200:
            raise SystemExit(f"{method} {path} answered {response.status}")
    connection.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=60, help="requests per route")
    parser.add_argument("--imports", type=int, default=7, help="fresh interpreters per import measurement")
    parser.add_argument("--port", type=int, default=18080)
    args = parser.parse_args()

    print(f"import times (median of {args.imports} fresh interpreters)", flush=True)
    baseline = import_seconds(BASELINE, args.imports)
    print(f"  {'baseline: ' + BASELINE:<58} {baseline * 1000:7.1f} ms")
    for module in HANDLERS:
        seconds = import_seconds(f"import {module}", args.imports)
        print(f"  {module:<58} {seconds * 1000:7.1f} ms  ({seconds / baseline:.2f} of baseline)", flush=True)

    keys = {"workspace": f"wsk_bench_{secrets.token_hex(8)}", "hmac": f"whsec_bench_{secrets.token_hex(8)}"}
    with tempfile.TemporaryDirectory(prefix="agentic-memory-bench-") as home:
        runtime = Runtime(Path(home), args.port, keys)
        try:
            report_routes(runtime.port, keys, args.requests)
        finally:
            runtime.stop()


def report_routes(port: int, keys: dict[str, str], count: int) -> None:
    transcription = load_fixture("transcription_twilio_inbound")
    caller = transcription["data"]["metadata"]["phone_call"]["external_number"]
    seed = json.dumps(transcription).encode()
    timed_requests(port, lambda _: ("POST", "/post-call", seed, {HEADER: sign(seed, keys["hmac"])}), 1)
    time.sleep(2)  # let the seeded call be processed, so pre-call and retrieve see a returning caller
    precall = json.dumps(load_fixture("precall_twilio_inbound")).encode()
    search = json.dumps({"query": "what is the dog called", "user_id": caller}).encode()

    def post_call(index: int):
        event = rewrite(transcription, None, f"conv_bench_{index:06d}", None)
        body = json.dumps(event).encode()
        return (
            "POST",
            "/post-call",
            body,
            {HEADER: sign(body, keys["hmac"]), "Content-Type": "application/json"},
        )

    routes = {
        "POST /client-data": lambda _: (
            "POST",
            "/client-data",
            precall,
            {"X-Workspace-Key": keys["workspace"]},
        ),
        "GET /retrieve": lambda _: ("GET", f"/retrieve?query=dog&user_id=%2B{caller[1:]}", None, {}),
        "POST /retrieve": lambda _: ("POST", "/retrieve", search, {"Content-Type": "application/json"}),
        "POST /post-call (ack)": post_call,
    }
    print(f"\nroute latency on the local runtime ({count} requests each, one keep-alive connection)")
    print(f"  {'route':<24} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, build in routes.items():
        timed_requests(port, build, 3)  # warm-up
        samples = timed_requests(port, build, count)
        print(
            f"  {name:<24} {statistics.median(samples) * 1000:8.1f} {percentile(samples, 0.95) * 1000:8.1f} "
            f"{max(samples) * 1000:8.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
