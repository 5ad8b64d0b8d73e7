"""What a simulated call sends: ElevenLabs-shaped payloads for a caller from a configurable pool.

Built from the recorded fixtures with the caller's number, name and conversation id replaced, so
every request is a real wire shape and every caller is distinguishable.
"""

import base64
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from agentic_memory.archive_keys import profile_key
from agentic_memory.caller_profile import CallerProfile, CallFacts, GivenName, encode, with_call
from agentic_memory.ports import Archive
from agentic_memory.signature import HEADER, sign
from devtools.fixtures import load_fixture
from local_runtime.sender import rewrite

NAMES = (
    "Margaret",
    "Walter",
    "Beatrice",
    "Harold",
    "Dorothy",
    "Arthur",
    "Evelyn",
    "Leonard",
    "Mabel",
    "Cyril",
)
FIXTURE_CALLER = load_fixture("transcription_twilio_inbound")["data"]["metadata"]["phone_call"][
    "external_number"
]
FIXTURE_NAME = "Margaret"
# A caller counts as known once their call was acknowledged this long ago (processing is asynchronous).
PROCESSING_GRACE_SECONDS = 5.0


@dataclass
class CallerPool:
    """Phone numbers ``+1555020xxxx``; remembers which callers have a processed call behind them."""

    size: int
    seed: int = field(default_factory=lambda: random.randrange(1_000_000))
    _acknowledged: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def number(self, index: int) -> str:
        return f"+1555{(self.seed + index) % 10_000_000:07d}"

    def pick(self, returning_ratio: float) -> str:
        with self._lock:
            known = list(self._acknowledged)
        if known and random.random() < returning_ratio:
            return random.choice(known)
        return self.number(random.randrange(self.size))

    def acknowledged(self, caller: str) -> None:
        with self._lock:
            self._acknowledged.setdefault(caller, time.monotonic())

    def is_known(self, caller: str) -> bool:
        with self._lock:
            since = self._acknowledged.get(caller)
        return since is not None and time.monotonic() - since > PROCESSING_GRACE_SECONDS


def name_of(caller: str) -> str:
    return NAMES[int(caller[-4:]) % len(NAMES)]


def initiation_body(caller: str) -> bytes:
    payload = load_fixture("precall_twilio_inbound")
    payload.update(caller_id=caller, conversation_id=new_conversation_id(), call_sid=f"CA{uuid.uuid4().hex}")
    return json.dumps(payload).encode()


def transcription_body(caller: str, conversation_id: str) -> bytes:
    payload = rewrite(load_fixture("transcription_twilio_inbound"), caller, conversation_id, FIXTURE_CALLER)
    payload["event_timestamp"] = int(time.time())
    text = json.dumps(payload).replace(FIXTURE_NAME, name_of(caller))
    return text.encode()


def audio_body(conversation_id: str) -> bytes:
    payload = load_fixture("audio")
    payload["data"]["conversation_id"] = conversation_id
    payload["event_timestamp"] = int(time.time())
    base64.b64decode(payload["data"]["full_audio"])  # the fixture is real MP3: fail early if not
    return json.dumps(payload).encode()


def signed(body: bytes, secret: str) -> dict[str, str]:
    return {HEADER: sign(body, secret), "Content-Type": "application/json"}


def new_conversation_id() -> str:
    return f"conv_load{uuid.uuid4().hex[:24]}"


SEARCH_QUERIES = ("what is the name of the dog", "when is the wedding", "what did we book last time")


# ---- callers with long histories: their brief is seeded before the run ----

LONG_HISTORY_ROUTE = "POST /client-data long-history"  # gate.LONG_HISTORY_ROUTE
FIRST_SEEDED_CALL = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


def long_history_sizes(text: str | None) -> tuple[int, ...]:
    """``"100,500"`` → ``(100, 500)``: how many past calls each seeded caller has; "" → none."""
    return tuple(int(part) for part in (text or "").split(",") if part.strip())


def long_history_caller(calls: int) -> str:
    """A number outside the pool's draw in practice (``+1555099`` and the call count)."""
    return f"+1555099{calls:04d}"


def seed_long_histories(archive: Archive, sizes: tuple[int, ...]) -> None:
    """Per size, the brief a caller with that many past calls has (one call a day from 2024-01-01),
    folded with the processor's own ``with_call`` and written where the pre-call reads it. Mem0 is not
    seeded: the pre-call reads the brief only. Milliseconds per hundred calls."""
    for calls in sizes:
        caller = long_history_caller(calls)
        name = name_of(caller)
        profile = CallerProfile(caller_id=caller)
        for number in range(calls):
            at = FIRST_SEEDED_CALL + timedelta(days=number)
            conversation = f"conv_seed_{calls:04d}_{number:04d}"
            given = GivenName(name=name, source="data_collection", at=at, conversation_id=conversation)
            facts = CallFacts(
                conversation_id=conversation,
                agent_id="agent_load",
                at=at,
                name=given,
                title=f"Call {number + 1}",
                summary=f"{name} called about appointment number {number + 1}.",
            )
            profile = with_call(profile, facts) or profile
        archive.put(profile_key(caller), encode(profile), "application/json")
