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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "shared"))

from run_load import start_runtime, stop_runtime  # noqa: E402

from agentic_memory.signature import HEADER, sign  # noqa: E402
from devtools.fixtures import load_fixture  # noqa: E402
from local_runtime.sender import rewrite  # noqa: E402

HANDLERS = [
    "services.conversation_initiation.handler",
    "services.search_memory.handler",
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


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def timed_requests(port: int, build, count: int, mem0_seconds=None) -> tuple[list[float], list[float]]:
    """Wall times of ``count`` requests, and for each the Mem0 time it contained (0 without a probe)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    samples, in_mem0 = [], []
    for index in range(count):
        method, path, body, headers = build(index)
        if mem0_seconds is not None:
            mem0_seconds()  # drain what earlier requests (and background processing) made Mem0 do
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        samples.append(time.perf_counter() - started)
        in_mem0.append(mem0_seconds() if mem0_seconds is not None else 0.0)
        if response.status != 200:
            raise SystemExit(f"{method} {path} answered {response.status}")
    connection.close()
    return samples, in_mem0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=60, help="requests per route")
    parser.add_argument("--imports", type=int, default=7, help="fresh interpreters per import measurement")
    args = parser.parse_args()

    print(f"import times (median of {args.imports} fresh interpreters)", flush=True)
    baseline = import_seconds(BASELINE, args.imports)
    print(f"  {'baseline: ' + BASELINE:<58} {baseline * 1000:7.1f} ms")
    for module in HANDLERS:
        seconds = import_seconds(f"import {module}", args.imports)
        print(f"  {module:<58} {seconds * 1000:7.1f} ms  ({seconds / baseline:.2f} of baseline)", flush=True)

    keys = {"workspace": f"wsk_bench_{secrets.token_hex(8)}", "hmac": f"whsec_bench_{secrets.token_hex(8)}"}
    runtime_keys = {"ELEVENLABS_WORKSPACE_KEY": keys["workspace"], "ELEVENLABS_HMAC_KEY": keys["hmac"]}
    with tempfile.TemporaryDirectory(prefix="agentic-memory-bench-") as home:
        runtime, url = start_runtime(Path(home), runtime_keys)
        try:
            print("\nroutes with the embedded Mem0 engine and the filesystem archive")
            report_routes(_port(url), keys, args.requests)
        finally:
            stop_runtime(runtime)

    from devtools.mem0_emulator import start_emulator

    mem0_key = f"m0_bench_{secrets.token_hex(8)}"
    emulator = start_emulator(profile="published", api_keys=[mem0_key])
    seen = {"count": 0}

    def mem0_seconds() -> float:
        """Mem0 time injected into the requests the emulator saw since the last call."""
        requests = emulator.requests()
        fresh, seen["count"] = requests[seen["count"] :], len(requests)
        return sum(r.delay_seconds for r in fresh if r.operation in ("search", "list"))

    with tempfile.TemporaryDirectory(prefix="agentic-memory-bench-") as home:
        extra = {**runtime_keys, "MEM0_API_KEY": mem0_key, "MEM0_BASE_URL": emulator.url}
        runtime, url = start_runtime(Path(home), extra)
        try:
            print(
                "\nroutes against the Mem0 Platform emulator at the published latency (p50 148 / p95 200 ms)"
            )
            report_routes(_port(url), keys, args.requests, mem0_seconds)
        finally:
            stop_runtime(runtime)
            emulator.stop()


def report_routes(port: int, keys: dict[str, str], count: int, mem0_seconds=None) -> None:
    transcription = load_fixture("transcription_twilio_inbound")
    caller = transcription["data"]["metadata"]["phone_call"]["external_number"]
    seed = json.dumps(transcription).encode()
    timed_requests(port, lambda _: ("POST", "/post-call", seed, {HEADER: sign(seed, keys["hmac"])}), 1)
    time.sleep(3)  # let the seeded call be processed, so pre-call and retrieve see a returning caller
    initiation = json.dumps(load_fixture("precall_twilio_inbound")).encode()
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
            initiation,
            {"X-Workspace-Key": keys["workspace"]},
        ),
        "GET /retrieve": lambda _: ("GET", f"/retrieve?query=dog&user_id=%2B{caller[1:]}", None, {}),
        "POST /retrieve": lambda _: ("POST", "/retrieve", search, {"Content-Type": "application/json"}),
        "POST /post-call (ack)": post_call,
    }
    print(f"  ({count} requests per route, one keep-alive connection; overhead = wall time - Mem0 time)")
    print(f"  {'route':<24} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'ovh p50':>8} {'ovh p95':>8}")
    for name, build in routes.items():
        timed_requests(port, build, 3, mem0_seconds)  # warm-up
        if name.startswith("POST /post-call"):
            time.sleep(1)  # let processing of earlier calls finish, so its Mem0 calls are not counted
        samples, in_mem0 = timed_requests(port, build, count, mem0_seconds)
        overhead = [total - mem0 for total, mem0 in zip(samples, in_mem0, strict=True)]
        # With the embedded engine Mem0's time cannot be told apart from ours: no overhead column.
        overhead_columns = (
            f" {statistics.median(overhead) * 1000:8.1f} {percentile(overhead, 0.95) * 1000:8.1f}"
            if mem0_seconds is not None
            else f" {'-':>8} {'-':>8}"
        )
        print(
            f"  {name:<24} {statistics.median(samples) * 1000:8.1f} {percentile(samples, 0.95) * 1000:8.1f} "
            f"{max(samples) * 1000:8.1f}{overhead_columns}",
            flush=True,
        )


if __name__ == "__main__":
    main()
