"""``make bench-recall-latency``: the ``search_memory`` tool's latency for a caller with 50 hour-long
calls, the recall index in S3 (moto) and Mem0 down or slow, beside a caller of one call, in one run.

    .venv/bin/python -m loadtests.recall_latency [--calls 50] [--questions 100] [--mem0-latency 1.0]
                                                 [--caller +447700900123] [--no-handler]

A benchmark, not a test: it reports, it asserts nothing about time. What it does:

- **Index.** One caller's recall index from the shipped memoir set (``fixtures/recall/memoir.json``):
  ``--calls`` calls of that caller, their own reused cyclically under new conversation ids (a week
  apart per round), each made into the post-call webhook body (``recall.harness.webhook_body``),
  parsed as the product parses it (``PostCallTranscription``) and indexed (``recall.calls.indexed_call``)
  into one ``RecallIndex``, written once under ``archive_keys.recall_key``. The baseline caller gets
  the first of those calls alone.
- **S3.** moto's server on 127.0.0.1, one bucket, the product's ``S3Archive`` (dummy credentials).
- **Mem0.** *down*: ``Mem0PlatformStore`` pointed at a loopback port bound but never listening
  (connection refused); *slow*: the same store on the Mem0 Platform emulator
  (``devtools.mem0_emulator``) answering every request after ``--mem0-latency`` seconds. The store's
  read timeout is the settings' default (``MEM0_TIMEOUT``, 0.28 s).
- **Searches.** ``search_memory.search_memories`` in process with ``SearchOptions()`` (2,800
  characters, 0.2 s budget), for the caller's questions in the data set, cycled to ``--questions``:
  *first* (new archive client, new store, empty index cache: a Lambda's first invocation after its
  init, though Python's imports are warm), *cold each* (an empty ``IndexCache`` for every search, so
  each downloads and opens the index) and *warm* (the cache kept: a 304 per search). Optionally the
  same first and warm searches through ``services.search_memory.handler.lambda_handler`` with an API
  Gateway event, the dependencies installed by ``wiring.use_dependencies``; its log lines and EMF
  metrics are written as in Lambda, to /dev/null.

Prints progress on stderr, a markdown table on stdout (p50, p95 and max in ms, n, and the p50 ratio
to the one-call caller) and writes everything to ``build/bench-recall-latency/<UTC time>.json``.
Only loopback; bounded by ``--questions`` and ``--max-seconds``; servers stopped on the way out.
Numbers are for this machine only.
"""

import argparse
import gzip
import json
import logging
import os
import platform
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from agentic_memory.settings import MemorySettings

from .recall.dataset import DEFAULT_PATH, CallerRecord, CallRecord, Dataset, load
from .recall.harness import webhook_body

REPOSITORY = Path(__file__).resolve().parents[1]
RESULTS = REPOSITORY / "build" / "bench-recall-latency"
DEFAULT_AGENT_ID = "agent_recall_benchmark"
BASELINE_CALLER = "+15550100777"
BUCKET = "recall-latency-bench"
REGION = "us-east-1"
WEEK_SECONDS = 7 * 24 * 3600
# Whatever the arguments say, the run stops starting new scenarios past this.
DEFAULT_MAX_SECONDS = 1200.0
# The store's read timeout: the deployment's default (MEM0_TIMEOUT), as Mem0PlatformStore.from_settings.
STORE_TIMEOUT: float = MemorySettings.model_fields["mem0_timeout"].default


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _dummy_aws_environment(home: Path) -> None:
    """Credentials for moto only; never the machine's own (no config files, no instance metadata)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )


# ---- the index -------------------------------------------------------------------------------------


@dataclass
class BuiltIndex:
    caller_id: str
    key: str
    calls: int
    bytes: int  # gzip-compressed, as stored
    uncompressed_bytes: int
    figures: dict[str, int]
    spoken_hours: float
    build_seconds: float


def _reused_call(call: CallRecord, round_number: int) -> CallRecord:
    if round_number == 0:
        return call
    return {
        **call,
        "conversation_id": f"{call['conversation_id']}_r{round_number}",
        "start_time_unix_secs": call["start_time_unix_secs"] + round_number * WEEK_SECONDS,
    }


def build_index(archive: Any, caller: CallerRecord, caller_id: str, calls: int, agent_id: str) -> BuiltIndex:
    """The caller's index as the product builds it from the webhook, written once to the archive."""
    from agentic_memory import archive_keys
    from agentic_memory.elevenlabs.post_call import PostCallTranscription
    from agentic_memory.recall.calls import indexed_call
    from agentic_memory.recall.index import RecallIndex
    from agentic_memory.recall.store import CONTENT_TYPE

    started = time.perf_counter()
    source = caller["calls"]
    owner: CallerRecord = {**caller, "caller_id": caller_id}
    index = RecallIndex.load(None)
    seconds = 0
    try:
        for number in range(calls):
            call = _reused_call(source[number % len(source)], number // len(source))
            body = webhook_body(owner, call, agent_id)
            event = PostCallTranscription.model_validate_json(json.dumps(body))
            index.add_call(indexed_call(event.data))
            seconds += call["call_duration_secs"]
            if (number + 1) % 10 == 0 or number + 1 == calls:
                progress(f"indexed {number + 1}/{calls} calls of {caller_id}")
        body_bytes = index.dump()
        figures = index.figures()
    finally:
        index.close()
    key = archive_keys.recall_key(caller_id)
    if not archive.put_if_version(key, body_bytes, CONTENT_TYPE, None):
        raise RuntimeError(f"{key} exists already in a fresh bucket")
    return BuiltIndex(
        caller_id=caller_id,
        key=key,
        calls=figures.calls,
        bytes=len(body_bytes),
        uncompressed_bytes=len(gzip.decompress(body_bytes)),
        figures=asdict(figures),
        spoken_hours=round(seconds / 3600, 1),
        build_seconds=round(time.perf_counter() - started, 2),
    )


# ---- servers ---------------------------------------------------------------------------------------


@contextmanager
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        progress(f"moto S3 at http://{host}:{port}")
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        progress("moto stopped")


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port bound and never listened on: every connection is refused at once."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])
    finally:
        holder.close()


@contextmanager
def slow_mem0(latency: float, api_key: str) -> Iterator[str]:
    from devtools.mem0_emulator.admin import start_emulator

    emulator = start_emulator("127.0.0.1", 0, "none", [api_key], latency=latency)
    try:
        progress(f"Mem0 emulator at {emulator.url}, {latency:.2f} s per request")
        yield str(emulator.url)
    finally:
        emulator.stop()
        progress("Mem0 emulator stopped")


# ---- measuring -------------------------------------------------------------------------------------


@dataclass
class Scenario:
    path: str  # "domain" (search_memories) or "handler" (lambda_handler)
    mem0: str  # "down" or "slow"
    caller: str  # "50 calls" or "1 call"
    temperature: str  # "first", "cold each", "warm"
    samples_ms: list[float] = field(default_factory=list)
    empty_answers: int = 0
    notes: int = 0  # handler: answers with the "memory unavailable" note
    characters: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.path}, Mem0 {self.mem0}, {self.caller}, {self.temperature}"

    def summary(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "mem0": self.mem0,
            "caller": self.caller,
            "temperature": self.temperature,
            "n": len(self.samples_ms),
            "p50_ms": round(percentile(self.samples_ms, 0.50), 2),
            "p95_ms": round(percentile(self.samples_ms, 0.95), 2),
            "max_ms": round(max(self.samples_ms), 2),
            "empty_answers": self.empty_answers,
            "notes": self.notes,
            "mean_characters": round(sum(self.characters) / max(len(self.characters), 1)),
            "samples_ms": [round(sample, 3) for sample in self.samples_ms],
        }


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest rank on the sorted samples (as ``loadtests/benchmark.py``)."""
    ordered = sorted(samples)
    return ordered[min(int(round(fraction * (len(ordered) - 1))), len(ordered) - 1)]


Search = Callable[[str, str], list[str] | None]  # (caller, query) -> memories (None: a note, no memories)


def _domain_search(memory: Any, archive: Any) -> Search:
    from agentic_memory.elevenlabs.search_memory import SearchMemoryRequest
    from agentic_memory.search_memory import SearchOptions, search_memories

    options = SearchOptions()

    def search(caller_id: str, query: str) -> list[str] | None:
        request = SearchMemoryRequest.model_validate({"query": query, "user_id": caller_id})
        return search_memories(request, memory, archive, options)[1]

    return search


def _handler_search(sink: IO[str]) -> Search:
    """The handler as Lambda runs it: its log lines and metrics (EMF) are written, to ``sink``."""
    from local_runtime.events import http_api_event
    from local_runtime.lambda_context import LocalLambdaContext

    with redirect_stdout(sink):  # Powertools' Logger binds the stream it writes to at import
        from services.search_memory.handler import lambda_handler

    context: Any = LocalLambdaContext("retrieve", 3)  # the shape of Lambda's own context

    def search(caller_id: str, query: str) -> list[str] | None:
        body = json.dumps({"query": query, "user_id": caller_id}).encode()
        event = http_api_event("POST", "/retrieve", "", [("Content-Type", "application/json")], body)
        with redirect_stdout(sink):
            response = lambda_handler(event, context)
        if response["statusCode"] != 200:
            raise RuntimeError(f"POST /retrieve answered {response['statusCode']}: {response['body'][:300]}")
        answer = json.loads(response["body"])
        return None if answer.get("note") else list(answer["memories"])

    return search


def _timed(scenario: Scenario, search: Search, caller_id: str, query: str) -> None:
    started = time.perf_counter()
    memories = search(caller_id, query)
    scenario.samples_ms.append((time.perf_counter() - started) * 1000)
    if memories is None:
        scenario.notes += 1
        memories = []
    scenario.empty_answers += not memories
    scenario.characters.append(sum(len(memory) for memory in memories))


def _fresh_cache() -> None:
    from agentic_memory import search_memory
    from agentic_memory.recall.store import IndexCache

    search_memory._indexes = IndexCache()


def _drain_semantic_pool(store_timeout: float) -> None:
    """Let the store searches still running from the previous scenario end, so none queues behind them."""
    from agentic_memory import search_memory

    search_memory._pool.submit(time.sleep, 0).result(timeout=60)
    time.sleep(store_timeout + 0.1)


@dataclass
class Setup:
    endpoint: str
    questions: list[str]
    callers: dict[str, str]  # label -> caller id
    mem0_urls: dict[str, str]  # "down"/"slow" -> base URL
    api_key: str
    with_handler: bool
    deadline: float
    sink: IO[str]  # the handler's stdout


def run_scenarios(setup: Setup) -> list[Scenario]:
    from agentic_memory import search_memory
    from agentic_memory.adapters.mem0_platform.store import Mem0PlatformStore
    from agentic_memory.adapters.s3_archive import S3Archive
    from agentic_memory.settings import Settings
    from agentic_memory.wiring import Dependencies, use_dependencies

    store_timeout = STORE_TIMEOUT
    original_cache = search_memory._indexes
    scenarios: list[Scenario] = []
    paths = ["domain", "handler"] if setup.with_handler else ["domain"]
    try:
        for path in paths:
            for mem0, url in setup.mem0_urls.items():
                for label, caller_id in setup.callers.items():
                    if time.monotonic() > setup.deadline:
                        progress("time limit reached: no more scenarios")
                        return scenarios
                    # A new process's state, as far as one process can: new clients, an empty cache.
                    archive = S3Archive(BUCKET, endpoint_url=setup.endpoint, region=REGION)
                    memory = Mem0PlatformStore(setup.api_key, url, read_timeout=store_timeout)
                    archive.prepare()
                    memory.prepare()
                    if path == "domain":
                        logging.getLogger("agentic_memory").setLevel(logging.ERROR)  # else a line a search
                        search = _domain_search(memory, archive)
                    else:
                        logging.getLogger("agentic_memory").setLevel(logging.NOTSET)  # as in Lambda
                        settings = Settings.from_environment(
                            {"S3_BUCKET_NAME": BUCKET, "MEM0_API_KEY": setup.api_key, "MEM0_BASE_URL": url}
                        )
                        use_dependencies(Dependencies(settings=settings, memory=memory, archive=archive))
                        search = _handler_search(setup.sink)
                    _drain_semantic_pool(store_timeout)
                    _fresh_cache()
                    first = Scenario(path, mem0, label, "first")
                    _timed(first, search, caller_id, setup.questions[0])
                    scenarios.append(first)
                    progress(f"{first.name}: {first.samples_ms[0]:.1f} ms")
                    temperatures = ["warm"] if path == "handler" else ["cold each", "warm"]
                    for temperature in temperatures:
                        scenario = Scenario(path, mem0, label, temperature)
                        if temperature == "warm":
                            _timed(
                                Scenario(path, mem0, label, "warm-up"), search, caller_id, setup.questions[0]
                            )
                        for number, query in enumerate(setup.questions, 1):
                            if temperature == "cold each":
                                _fresh_cache()
                            _timed(scenario, search, caller_id, query)
                            if number % 25 == 0:
                                progress(f"{scenario.name}: {number}/{len(setup.questions)}")
                        scenarios.append(scenario)
                        summary = scenario.summary()
                        progress(f"{scenario.name}: p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} ms")
                    memory.close()
    finally:
        search_memory._indexes = original_cache
        use_dependencies(None)
    return scenarios


# ---- report ----------------------------------------------------------------------------------------


def markdown(scenarios: list[Scenario]) -> str:
    p50s = {(s.path, s.mem0, s.caller, s.temperature): percentile(s.samples_ms, 0.5) for s in scenarios}
    lines = [
        "| Scenario | p50 ms | p95 ms | max ms | n | p50 / 1 call |",
        "|---|---|---|---|---|---|",
    ]
    for scenario in scenarios:
        row = scenario.summary()
        baseline = p50s.get((scenario.path, scenario.mem0, "1 call", scenario.temperature))
        ratio = f"{row['p50_ms'] / baseline:.2f}×" if baseline and scenario.caller != "1 call" else ""
        lines.append(
            f"| {scenario.name} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['max_ms']:.1f} "
            f"| {row['n']} | {ratio} |"
        )
    return "\n".join(lines)


def _caller(data: Dataset, caller_id: str | None) -> CallerRecord:
    if caller_id is not None:
        for caller in data["callers"]:
            if caller["caller_id"] == caller_id:
                return caller
        raise SystemExit(f"no caller {caller_id} in the data set")
    counts = {
        c["caller_id"]: sum(q["caller_id"] == c["caller_id"] for q in data["questions"])
        for c in data["callers"]
    }
    return max(data["callers"], key=lambda caller: (counts[caller["caller_id"]], len(caller["calls"])))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.recall_latency", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--caller", help="the data set's caller whose calls and questions are used")
    parser.add_argument("--calls", type=int, default=50, help="calls in the large caller's index")
    parser.add_argument("--questions", type=int, default=100, help="searches per scenario")
    parser.add_argument("--mem0-latency", type=float, default=1.0, help="the slow Mem0's seconds per request")
    parser.add_argument("--no-handler", action="store_true", help="skip the Lambda handler's scenarios")
    parser.add_argument("--max-seconds", type=float, default=DEFAULT_MAX_SECONDS)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not 1 <= args.calls <= 500 or not 1 <= args.questions <= 1000:
        parser.error("--calls must be 1..500 and --questions 1..1000")

    began = time.monotonic()
    data = load(args.data)
    caller = _caller(data, args.caller)
    questions = [q["question"] for q in data["questions"] if q["caller_id"] == caller["caller_id"]]
    if not questions:
        raise SystemExit(f"no questions for {caller['caller_id']}")
    asked = [questions[n % len(questions)] for n in range(args.questions)]
    agent_id = data.get("agent_id", DEFAULT_AGENT_ID)
    progress(
        f"caller {caller['caller_id']} ({caller['name']}): {len(caller['calls'])} calls in the data set, "
        f"{len(questions)} questions; Python {platform.python_version()} ({sys.executable})"
    )

    with ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="recall-latency-")))
        _dummy_aws_environment(home)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server: a line per request

        from agentic_memory.adapters.s3_archive import S3Archive

        endpoint = stack.enter_context(moto_server())
        import boto3

        s3 = boto3.session.Session().client("s3", endpoint_url=endpoint, region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        archive = S3Archive(BUCKET, endpoint_url=endpoint, region=REGION)
        large = build_index(archive, caller, caller["caller_id"], args.calls, agent_id)
        small = build_index(archive, caller, BASELINE_CALLER, 1, agent_id)
        for built in (large, small):
            progress(
                f"index of {built.caller_id}: {built.calls} calls ({built.spoken_hours} h), "
                f"{built.bytes:,} bytes gzipped ({built.uncompressed_bytes:,} uncompressed), "
                f"figures {built.figures}, built in {built.build_seconds} s"
            )

        api_key = "m0-bench-recall-latency"
        down = stack.enter_context(refused_port())
        slow = stack.enter_context(slow_mem0(args.mem0_latency, api_key))
        setup = Setup(
            endpoint=endpoint,
            questions=asked,
            callers={f"{args.calls} calls": caller["caller_id"], "1 call": BASELINE_CALLER},
            mem0_urls={"down": f"http://127.0.0.1:{down}", "slow": slow},
            api_key=api_key,
            with_handler=not args.no_handler,
            deadline=began + args.max_seconds,
            sink=stack.enter_context(open(os.devnull, "w", encoding="utf-8")),  # noqa: SIM115
        )
        scenarios = run_scenarios(setup)

    elapsed = time.monotonic() - began
    table = markdown(scenarios)
    print(
        f"Recall latency, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; run took {elapsed:.0f} s"
    )
    print(
        f"Index of {large.caller_id}: {large.calls} calls, {large.spoken_hours} h of talk, "
        f"{large.bytes:,} bytes in S3 ({large.uncompressed_bytes:,} uncompressed); figures {large.figures}"
    )
    print(
        f"Baseline {small.caller_id}: {small.calls} call, {small.bytes:,} bytes in S3; "
        f"figures {small.figures}"
    )
    print(
        f"Mem0 down: connection refused; slow: {args.mem0_latency:.2f} s per request; "
        f"store timeout {STORE_TIMEOUT} s (MEM0_TIMEOUT default); budget 0.2 s\n"
    )
    print(table)
    args.output.mkdir(parents=True, exist_ok=True)
    out = args.output / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    report = {
        "data": str(args.data),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "elapsed_seconds": round(elapsed, 1),
        "mem0_latency_seconds": args.mem0_latency,
        "questions": asked,
        "indexes": [asdict(large), asdict(small)],
        "scenarios": [scenario.summary() for scenario in scenarios],
    }
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten {out.relative_to(REPOSITORY) if out.is_relative_to(REPOSITORY) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
