"""Feeding calls through the product's post-call path and asking through its search path, over HTTP.

Ingest: each call becomes a signed ``post_call_transcription`` webhook (the shape of
``fixtures/elevenlabs/transcription_twilio_inbound.json``), POSTed to ``/post-call``. Processing is
asynchronous, so the harness watches each caller's brief until it counts every call. Ask: each
question is a ``POST /retrieve`` with ``{"query", "user_id"}``, timed from request to full answer.
"""

import http.client
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agentic_memory.signature import HEADER, sign

from .dataset import CallerRecord, CallRecord, Dataset, Question
from .runtime import RunningProduct

AGENT_NUMBER = "+15550100001"
PROGRESS_SECONDS = 5.0
Progress = Callable[[str], None]


@dataclass
class Ingest:
    """Seconds from the first POST until every call was in its caller's brief (or had failed); per
    call, from its own POST until it was. ``failed``: calls the product parked in its dead-letter
    folder after its retries (their words are lost to the search, and so count as misses)."""

    calls: int
    total_seconds: float
    post_seconds: float  # the POSTs alone (with --sequential, the waits between them too)
    per_call_seconds: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass
class Answer:
    memories: list[str]
    latency_ms: float
    note: str | None = None  # the product's "memory unavailable" note, if any

    @property
    def characters(self) -> int:
        return sum(len(memory) for memory in self.memories)


def webhook_body(caller: CallerRecord, call: CallRecord, agent_id: str) -> dict[str, Any]:
    """The post-call transcription ElevenLabs would send for this call."""
    start = call["start_time_unix_secs"]
    transcript: list[dict[str, Any]] = [
        {
            "role": turn["role"],
            "message": turn["message"],
            "time_in_call_secs": turn["time_in_call_secs"],
            "tool_calls": [],
            "tool_results": [],
            "interrupted": False,
            "source_medium": "audio" if turn["role"] == "user" else None,
        }
        for turn in call["turns"]
    ]
    return {
        "type": "post_call_transcription",
        "event_timestamp": start + call["call_duration_secs"] + 30,
        "data": {
            "agent_id": agent_id,
            "conversation_id": call["conversation_id"],
            "status": "done",
            "user_id": None,
            "transcript": transcript,
            "metadata": {
                "start_time_unix_secs": start,
                "accepted_time_unix_secs": start,
                "call_duration_secs": call["call_duration_secs"],
                "timezone": caller["timezone"],
                "phone_call": {
                    "direction": "inbound",
                    "agent_number": AGENT_NUMBER,
                    "external_number": caller["caller_id"],
                    "type": "twilio",
                    "call_sid": f"CA{call['conversation_id'][-24:]}",
                },
                "termination_reason": "Call ended by remote party",
                "error": None,
                "main_language": "en",
            },
            "analysis": {
                "evaluation_criteria_results": {},
                "data_collection_results": {},
                "call_successful": "success",
                "transcript_summary": call["transcript_summary"],
                "call_summary_title": "Memoir interview",
            },
        },
    }


class Client:
    """One keep-alive connection to the product (the figures are the product's, not connection setup)."""

    def __init__(self, url: str, timeout: float = 60) -> None:
        parts = urlsplit(url)
        self._connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=timeout
        )

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            return self._post(path, body, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self._connection.close()  # the server closed an idle connection: reconnect once
            return self._post(path, body, headers)

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        self._connection.request(
            "POST", path, body=body, headers={"Content-Type": "application/json", **headers}
        )
        response = self._connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self._connection.close()


def ingest(
    product: RunningProduct,
    data: Dataset,
    agent_id: str,
    progress: Progress,
    sequential: bool = False,
    timeout: float = 3600,
) -> Ingest:
    """Post every call (callers in turn, each caller's calls in order), then wait until all are
    processed; ``sequential``: wait for each call before posting the next (no burst)."""
    client = Client(product.url)
    calls = [(caller, call) for caller in data["callers"] for call in caller["calls"]]
    watch = _Watch(product.home, data, progress, timeout)
    try:
        for number, (caller, call) in enumerate(calls, 1):
            body = json.dumps(webhook_body(caller, call, agent_id), separators=(",", ":")).encode()
            signature = sign(body, product.hmac_key, int(time.time()))
            status, answer = client.post("/post-call", body, {HEADER: signature})
            if status != 200:
                raise RuntimeError(f"POST /post-call {call['conversation_id']}: {status} {answer[:300]!r}")
            watch.posted(call["conversation_id"])
            progress(f"  posted {number}/{len(calls)} calls ({watch.elapsed():.1f} s)")
            if sequential:
                watch.until_done()
    finally:
        client.close()
    post_seconds = watch.elapsed()
    watch.until_done()
    return watch.figures(post_seconds)


class _Watch:
    """Which posted calls are processed (in their caller's brief) or failed (in the dead-letter
    folder), and when each was first seen so (monotonic seconds)."""

    def __init__(self, home: Path, data: Dataset, progress: Progress, timeout: float) -> None:
        self._home = home
        self._progress = progress
        self._timeout = timeout
        self._started = time.monotonic()
        self._callers = {
            caller["caller_id"]: [c["conversation_id"] for c in caller["calls"]] for caller in data["callers"]
        }
        self._posted_at: dict[str, float] = {}
        self._done_at: dict[str, float] = {}
        self._failed: set[str] = set()

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def posted(self, conversation_id: str) -> None:
        self._posted_at[conversation_id] = time.monotonic()

    def until_done(self) -> None:
        last_report = time.monotonic()
        while len(self._done_at) < len(self._posted_at):
            self._look()
            if time.monotonic() - last_report >= PROGRESS_SECONDS:
                self._report()
                last_report = time.monotonic()
            if self.elapsed() > self._timeout:
                raise RuntimeError(f"only {len(self._done_at)} calls processed after {self._timeout:.0f} s")
            time.sleep(0.2)
        self._report()

    def _look(self) -> None:
        now = time.monotonic()
        for caller_id, conversation_ids in self._callers.items():
            for conversation_id in _processed(self._home, caller_id, conversation_ids):
                if conversation_id in self._posted_at:
                    self._done_at.setdefault(conversation_id, now)
        for parked in _dead_letters(self._home):
            for conversation_id in self._posted_at:
                if conversation_id in parked and conversation_id not in self._done_at:
                    self._failed.add(conversation_id)
                    self._done_at[conversation_id] = now
                    self._progress(f"  FAILED: {conversation_id} was parked in the dead-letter folder")

    def _report(self) -> None:
        failed = f", {len(self._failed)} failed" if self._failed else ""
        self._progress(
            f"  processed {len(self._done_at) - len(self._failed)}/{len(self._posted_at)} calls{failed} "
            f"({self.elapsed():.0f} s)"
        )

    def figures(self, post_seconds: float) -> Ingest:
        finished = max(self._done_at.values(), default=self._started)
        return Ingest(
            calls=len(self._posted_at),
            total_seconds=finished - self._started,
            post_seconds=post_seconds,
            per_call_seconds=[
                self._done_at[cid] - posted
                for cid, posted in self._posted_at.items()
                if cid not in self._failed
            ],
            failed=sorted(self._failed),
        )


def _processed(home: Path, caller_id: str, conversation_ids: list[str]) -> list[str]:
    brief = _brief(home, caller_id)
    named = [cid for cid in conversation_ids if cid in brief.get("conversations", {})]
    if named:
        return named
    return conversation_ids if brief.get("call_count", 0) >= len(conversation_ids) else []


def _brief(home: Path, caller_id: str) -> dict[str, Any]:
    # An E.164 number is its own archive key segment (README "Archive keys").
    path = home / "archive" / "profiles" / f"{caller_id}.json"
    try:
        brief = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # not written yet, or caught half-written
        return {}
    return brief if isinstance(brief, dict) else {}


def _dead_letters(home: Path) -> list[str]:
    folder = home / "dead-letter"
    return (
        sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())
        if folder.is_dir()
        else []
    )


def ask(product: RunningProduct, questions: list[Question], progress: Progress) -> list[Answer]:
    """Every question through ``POST /retrieve``, one after another, as the agent's tool would."""
    client = Client(product.url)
    answers = []
    try:
        for number, question in enumerate(questions, 1):
            body = json.dumps({"query": question["question"], "user_id": question["caller_id"]}).encode()
            started = time.perf_counter()
            status, raw = client.post("/retrieve", body, {})
            latency_ms = (time.perf_counter() - started) * 1000
            if status != 200:
                raise RuntimeError(f"POST /retrieve {question['id']}: {status} {raw[:300]!r}")
            answer = json.loads(raw)
            memories = [str(memory) for memory in answer.get("memories", [])]
            answers.append(Answer(memories=memories, latency_ms=latency_ms, note=answer.get("note")))
            if number % 25 == 0 or number == len(questions):
                progress(f"  asked {number}/{len(questions)} questions")
    finally:
        client.close()
    return answers
