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
    """Seconds from the first POST until every call was in its caller's brief; per call, from its
    own POST until it was (when the brief names its calls), in the order posted."""

    calls: int
    total_seconds: float
    post_seconds: float  # the POSTs alone
    per_call_seconds: list[float] = field(default_factory=list)


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
    product: RunningProduct, data: Dataset, agent_id: str, progress: Progress, timeout: float = 3600
) -> Ingest:
    """Post every call (callers in turn, each caller's calls in order), then wait until processed."""
    client = Client(product.url)
    calls = [(caller, call) for caller in data["callers"] for call in caller["calls"]]
    posted_at: dict[str, float] = {}
    started = time.monotonic()
    try:
        for number, (caller, call) in enumerate(calls, 1):
            body = json.dumps(webhook_body(caller, call, agent_id), separators=(",", ":")).encode()
            signature = sign(body, product.hmac_key, int(time.time()))
            status, answer = client.post("/post-call", body, {HEADER: signature})
            if status != 200:
                raise RuntimeError(f"POST /post-call {call['conversation_id']}: {status} {answer[:300]!r}")
            posted_at[call["conversation_id"]] = time.monotonic()
            progress(f"  posted {number}/{len(calls)} calls ({time.monotonic() - started:.1f} s)")
    finally:
        client.close()
    post_seconds = time.monotonic() - started
    done_at = _wait_until_processed(product.home, data, posted_at, progress, started, timeout)
    total = max(done_at.values(), default=started) - started
    per_call = [done_at[cid] - posted_at[cid] for cid in posted_at if cid in done_at]
    return Ingest(calls=len(calls), total_seconds=total, post_seconds=post_seconds, per_call_seconds=per_call)


def _wait_until_processed(
    home: Path,
    data: Dataset,
    posted_at: dict[str, float],
    progress: Progress,
    started: float,
    timeout: float,
) -> dict[str, float]:
    """When each call was first seen in its caller's brief (monotonic seconds). A brief without
    per-call ids still counts calls: then every call of the caller is stamped when the count is full."""
    expected = {
        caller["caller_id"]: [c["conversation_id"] for c in caller["calls"]] for caller in data["callers"]
    }
    seen: dict[str, float] = {}
    last_report = 0.0
    while len(seen) < len(posted_at):
        now = time.monotonic()
        for caller_id, conversation_ids in expected.items():
            for conversation_id in _processed(home, caller_id, conversation_ids):
                seen.setdefault(conversation_id, now)
        parked = _dead_letters(home)
        if parked:
            raise RuntimeError(f"post-call processing failed for {len(parked)} event(s): {parked[:3]}")
        if now - last_report >= PROGRESS_SECONDS:
            progress(f"  processed {len(seen)}/{len(posted_at)} calls ({now - started:.0f} s)")
            last_report = now
        if now - started > timeout:
            raise RuntimeError(f"only {len(seen)}/{len(posted_at)} calls processed after {timeout:.0f} s")
        time.sleep(0.2)
    progress(f"  processed {len(seen)}/{len(posted_at)} calls ({time.monotonic() - started:.0f} s)")
    return seen


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
