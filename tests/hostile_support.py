"""The hostile-input harness: the real handlers behind in-memory ports, and the invariants every answer keeps.

Each request goes through a Lambda entry point as the payload 2.0 event API Gateway would deliver.
Whatever the input, an answer must:

* never be a 5xx: an unhandled error is a defect even though ``services/http_edge.py`` turns it into a 500;
* be JSON that a real HTTP answer can carry (UTF-8, so no unpaired surrogate);
* when it is an error, be ``{"error": str, "detail": str}`` and short: an error names the problem,
  it does not echo the input back (and must stay far below Lambda's 6 MB response limit);
* leave the archive holding only keys of the archive layout (checked independently of the product's
  own patterns, so a loosened pattern in the product shows up here).

Every answer is tallied per endpoint and status; ``tests/conftest.py`` prints the tally after the run.
"""

import copy
import json
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from helpers import api_event, lambda_context, sqs_event
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from agentic_memory.settings import Settings
from agentic_memory.signature import HEADER, sign
from agentic_memory.wiring import Dependencies, use_dependencies
from devtools.fakes import InMemoryArchive, InMemoryMemoryStore
from devtools.fixtures import fixture_bytes, load_fixture
from services.conversation_initiation.handler import lambda_handler as conversation_initiation_handler
from services.post_call.handler import lambda_handler as post_call_handler
from services.post_call.processor import lambda_handler as processor_handler
from services.search_memory.handler import lambda_handler as search_memory_handler

CONVERSATION_INITIATION = "client-data"
SEARCH_MEMORY_GET = "retrieve GET"
SEARCH_MEMORY_POST = "retrieve POST"
POST_CALL = "post-call"
ENDPOINTS = (CONVERSATION_INITIATION, SEARCH_MEMORY_GET, SEARCH_MEMORY_POST, POST_CALL)

# (endpoint, status) -> how many hostile requests got that answer; status 0: no answer at all.
TALLY: Counter[tuple[str, int]] = Counter()

MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous request limit, mirrored by the product
LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024
MAX_ERROR_BODY_BYTES = 4096

AGENT_NUMBER = "+15550100001"
CALLER = "+15550100142"  # the caller of the inbound fixtures
PERSON_CALLED = "+15550100177"  # the person dialled in precall_twilio_outbound

INITIATION_FIXTURES = (
    "precall_twilio_inbound",
    "precall_twilio_outbound",
    "precall_sip_inbound",
    "precall_whatsapp",
)
POST_CALL_FIXTURES = (
    "transcription_twilio_inbound",
    "transcription_twilio_outbound",
    "transcription_sip",
    "transcription_web",
    "transcription_returning_caller",
    "audio",
    "initiation_failure_twilio",
    "initiation_failure_sip",
)

# Hypothesis: deterministic in CI, no example database written into the checkout, no deadline (the
# first call of a handler pays for Powertools' cold start).
HOSTILE_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------------------------------------------
# The archive layout of docs/architecture.md, written out here rather than imported from the product.

_CALLER_SEGMENT = r"\+?[A-Za-z0-9][A-Za-z0-9_.@:+\-]{0,127}"
_ID_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9_\-]{0,127}"
_STAMP = r"[0-9]{8}T[0-9]{9}Z"
_LAYOUT = (
    re.compile(
        rf"client-data/(?P<caller>{_CALLER_SEGMENT})/{_STAMP}_{_ID_SEGMENT}/(received|response)\.json"
    ),
    re.compile(rf"post-call/audio-only/{_ID_SEGMENT}/{_ID_SEGMENT}\.(json|mp3)"),
    re.compile(rf"post-call/(initiation-failure|oversized-audio)/{_ID_SEGMENT}/{_ID_SEGMENT}\.json"),
    # Signed events we do not process, by type; transcriptions that name nobody.
    re.compile(rf"post-call/other/{_ID_SEGMENT}/{_ID_SEGMENT}\.json"),
    re.compile(rf"post-call/unattributed/{_ID_SEGMENT}\.json"),
    re.compile(rf"post-call/(?P<caller>{_CALLER_SEGMENT})/{_ID_SEGMENT}\.json"),
    # The agent's own numbers, learned from its calls; the caller brief.
    re.compile(rf"agents/{_ID_SEGMENT}/numbers\.json"),
    re.compile(rf"profiles/(?P<caller>{_CALLER_SEGMENT})\.json"),
    # The caller's recall index (every call's passages), beside the brief.
    re.compile(rf"recall/(?P<caller>{_CALLER_SEGMENT})\.sqlite\.gz"),
    # Not a key: the filesystem archive's lock for conditional writes (a dot name is never listed).
    re.compile(r"\.conditional-writes\.lock"),
)
_RESERVED_BELOW_POST_CALL = {"audio-only", "initiation-failure", "oversized-audio", "unattributed", "other"}
_NEVER_IN_A_KEY = ("..", "\\", "\x00", "\n", "\r", "//", "%")
SAFE_ID = re.compile(_ID_SEGMENT)
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def layout_problem(key: str) -> str | None:
    """Why ``key`` is not a key of the archive layout, or None when it is one."""
    if key.startswith("/") or any(bad in key for bad in _NEVER_IN_A_KEY):
        return f"forbidden sequence in {key!r}"
    match = next((m for pattern in _LAYOUT if (m := pattern.fullmatch(key))), None)
    if match is None:
        return f"{key!r} follows no archive-layout prefix"
    caller = match.groupdict().get("caller")
    # Case-insensitively: on a case-insensitive file system (macOS) Audio-Only/ is the audio-only/ folder.
    if caller is not None and (caller.lower() in _RESERVED_BELOW_POST_CALL or ".." in caller):
        return f"caller segment {caller!r} collides with the layout"
    return None


def assert_archive_follows_the_layout(keys: Iterable[str]) -> None:
    problems = [problem for key in keys if (problem := layout_problem(key))]
    assert problems == [], problems


# ---------------------------------------------------------------------------------------------------
# Keys, settings and the harness.


@dataclass(frozen=True)
class HostileKeys:
    """Two workspace keys and two HMAC secrets (a rotation in progress) and one tool key."""

    workspace: str
    next_workspace: str
    hmac: str
    previous_hmac: str
    tool: str

    @classmethod
    def generate(cls) -> "HostileKeys":
        return cls(
            workspace=f"wsk_hostile_{secrets.token_hex(16)}",
            next_workspace=f"wsk_hostile_next_{secrets.token_hex(16)}",
            hmac=f"whsec_hostile_{secrets.token_hex(16)}",
            previous_hmac=f"whsec_hostile_prev_{secrets.token_hex(16)}",
            tool=f"tool_hostile_{secrets.token_hex(16)}",
        )

    def settings(self, home: Path, tool_key_required: bool) -> Settings:
        environment = {
            "ELEVENLABS_WORKSPACE_KEY": f"{self.workspace},{self.next_workspace}",
            "ELEVENLABS_HMAC_KEY": f"{self.hmac},{self.previous_hmac}",
            "AGENTIC_MEMORY_HOME": str(home),
            "AGENT_PHONE_NUMBERS": AGENT_NUMBER,
        }
        if tool_key_required:
            environment["ELEVENLABS_TOOL_KEY"] = self.tool
        return Settings.from_environment(environment)


@dataclass(frozen=True)
class Exchange:
    """One hostile request and what came of it."""

    endpoint: str
    status: int
    answer: Any
    written: list[str]  # archive keys this request created


_HANDLERS: dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]] = {
    CONVERSATION_INITIATION: conversation_initiation_handler,
    SEARCH_MEMORY_GET: search_memory_handler,
    SEARCH_MEMORY_POST: search_memory_handler,
    POST_CALL: post_call_handler,
}


class Harness:
    """In-memory ports installed behind the real handlers for the duration of a ``with`` block."""

    def __init__(
        self, keys: HostileKeys, settings: Settings, memory: InMemoryMemoryStore | None = None
    ) -> None:
        self.keys = keys
        self.archive = InMemoryArchive()
        self.memory = memory if memory is not None else InMemoryMemoryStore()
        self.dependencies = Dependencies(settings=settings, memory=self.memory, archive=self.archive)

    def __enter__(self) -> "Harness":
        use_dependencies(self.dependencies)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        use_dependencies(None)

    # -- the four endpoints -------------------------------------------------------------------------

    def conversation_initiation(self, body: bytes, headers: Mapping[str, str] | None = None) -> Exchange:
        """``POST /client-data``; by default with the right workspace key."""
        chosen = {"X-Workspace-Key": self.keys.workspace} if headers is None else headers
        return self.send(CONVERSATION_INITIATION, api_event("POST", "/client-data", body, dict(chosen)))

    def search_memory_get(
        self, query: str | Mapping[str, str], headers: Mapping[str, str] | None = None
    ) -> Exchange:
        """``GET /retrieve?...``; by default with the right tool key (ignored when none is required)."""
        raw_query = query if isinstance(query, str) else urlencode(query)
        chosen = {"X-Tool-Key": self.keys.tool} if headers is None else headers
        return self.send(SEARCH_MEMORY_GET, api_event("GET", "/retrieve", b"", dict(chosen), raw_query))

    def search_memory_post(self, body: bytes, headers: Mapping[str, str] | None = None) -> Exchange:
        chosen = {"X-Tool-Key": self.keys.tool} if headers is None else headers
        return self.send(SEARCH_MEMORY_POST, api_event("POST", "/retrieve", body, dict(chosen)))

    def post_call(self, body: bytes, headers: Mapping[str, str] | None = None) -> Exchange:
        """``POST /post-call``; by default signed now with the current HMAC secret."""
        chosen = {HEADER: sign(body, self.keys.hmac)} if headers is None else headers
        return self.send(POST_CALL, api_event("POST", "/post-call", body, dict(chosen)))

    def send(self, endpoint: str, event: dict[str, Any]) -> Exchange:
        before = set(self.archive.objects)
        response = _HANDLERS[endpoint](event, lambda_context(endpoint))
        status = int(response["statusCode"])
        TALLY[(endpoint, status)] += 1
        written = sorted(set(self.archive.objects) - before)
        answer = _checked_answer(endpoint, status, response)
        assert_archive_follows_the_layout(self.archive.objects)
        return Exchange(endpoint=endpoint, status=status, answer=answer, written=written)

    # -- what happens after a post-call acknowledgement --------------------------------------------

    def process(self, key: str) -> dict[str, Any]:
        """Run the processing entry point on one archived key, as SQS would."""
        return processor_handler(sqs_event(key), lambda_context("post-call-processor"))


def _checked_answer(endpoint: str, status: int, response: dict[str, Any]) -> Any:
    text = response.get("body", "")
    assert status < 500, f"{endpoint} answered {status}: {str(text)[:300]}"
    try:
        encoded = str(text).encode("utf-8")
    except UnicodeEncodeError as error:
        raise AssertionError(f"{endpoint} answered a body no HTTP response can carry: {error}") from None
    assert len(encoded) <= LAMBDA_RESPONSE_LIMIT_BYTES, f"{endpoint} answer of {len(encoded)} bytes"
    answer = json.loads(text)
    if status >= 400:
        assert isinstance(answer, dict) and set(answer) == {"error", "detail"}, answer
        assert isinstance(answer["error"], str) and isinstance(answer["detail"], str), answer
        assert len(encoded) <= MAX_ERROR_BODY_BYTES, (
            f"{endpoint} error of {len(encoded)} bytes echoes the input: {str(text)[:200]}"
        )
    return answer


# ---------------------------------------------------------------------------------------------------
# Payload builders.


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload).encode("utf-8")


def with_value(payload: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A deep copy of ``payload`` with the field at ``path`` set to ``value``."""
    changed = copy.deepcopy(payload)
    node = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


def fixture(name: str) -> Any:
    return load_fixture(name)


def raw_fixture(name: str) -> bytes:
    return fixture_bytes(name)


def body_of_exactly(size: int, payload: dict[str, Any]) -> bytes:
    """``payload`` as JSON padded with trailing spaces to exactly ``size`` bytes (still valid JSON)."""
    body = json_bytes(payload)
    assert len(body) <= size
    return body + b" " * (size - len(body))


# ---------------------------------------------------------------------------------------------------
# Hostile identifiers.

# Unsafe wherever an id is used: no normalisation can make these a phone number or a safe id.
TRAVERSAL_IDS: tuple[str, ...] = (
    "..",
    "../",
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/",
    "/etc/passwd",
    "\\",
    "a/b",
    "a\\b",
    "conv/../../escape",
    "%2F",
    "a%2Fb",
    "%2e%2e",
    "%2e%2e%2f%2e%2e%2fetc",
    "%00",
    "\x00",
    "a\x00b",
    "a\nb",
    "a\r\nb",
    "a\tb",
    "a b",
    ".",
    "./a",
    "~",
    "~root",
    "a;b",
    "a|b",
    "x" * 300,
    "\u2024\u2024\u2215etc",  # one dot leaders and a division slash
    "\uff0e\uff0e\uff0fetc",  # fullwidth full stops and solidus
    "a\u2044b",  # fraction slash
    "a\u29f5b",  # reverse solidus operator
    "a\ufe68b",  # small reverse solidus
    "a\uff3cb",  # fullwidth reverse solidus
    "\u202eexe.gnp",  # right-to-left override
    "conv\u200b",  # zero width space
    "\uff0b15550100142",  # fullwidth plus sign before a number
    "\u0661\u0665\u0665\u0665\u0660\u0661\u0660\u0660\u0661\u0664\u0662",  # Arabic-Indic digits
    "\U0001f600",
)
# Unsafe for conversation, agent and call ids, which are taken exactly as sent (no trimming).
UNTRIMMED_ID_ONLY: tuple[str, ...] = ("conv_ok\n", " conv_ok", "conv.ok", "conv:ok", "conv@ok", "x" * 129)
# A caller id must not collide with the folders the layout itself uses below post-call/.
RESERVED_CALLER_IDS: tuple[str, ...] = ("audio-only", "initiation-failure", "oversized-audio", "a..b")
BLANK_IDS: tuple[str, ...] = ("\n", "\r\n", " ", "\t")
# Separators around a phone number that E.164 normalisation removes: the key gets the clean number.
NORMALISED_PHONE_FORMS: tuple[str, ...] = (
    "+1 (555) 010-0142",
    "+1.555.010.0142",
    "+1555/010/0142",
    "../+15550100142",
    "./15550100142",
    "+15550100142\n",
    "\t+15550100142 ",
)


# ---------------------------------------------------------------------------------------------------
# Hypothesis strategies.

_ID_TOKENS = (
    "..",
    ".",
    "/",
    "\\",
    "%2F",
    "%2e",
    "%00",
    "\x00",
    "\n",
    "\r",
    "\t",
    " ",
    "\u202e",
    "\u2215",
    "\uff0f",
    "\uff0e",
    "\u200b",
    "conv",
    "_",
    "-",
    "+",
    "1555",
    "0100142",
    "a",
    "Z",
    "~",
    ":",
    "@",
    "audio-only",
    "\U0001f600",
)
# Ids built from traversal pieces, any text at all (controls, RTL, emoji, lookalikes), and safe ids.
HOSTILE_IDS = st.one_of(
    st.lists(st.sampled_from(_ID_TOKENS), min_size=1, max_size=8).map("".join),
    st.text(max_size=40),
    st.from_regex(SAFE_ID, fullmatch=True),
)
# Any text, including NUL, controls, RTL overrides, emoji and every plane except surrogates.
ANY_TEXT = st.text(max_size=200)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
# Byte edits: at a position, remove a few bytes and insert JSON punctuation, escapes or random bytes.
_INSERTS = st.sampled_from(
    [b'"', b"\\", b"{", b"}", b"[", b"]", b",", b":", b"null", b"\\u0000", b"\\ud800", b"\xff", b"\x00"]
) | st.binary(max_size=4)
BYTE_EDITS = st.lists(st.tuples(st.integers(0, 2**16), st.integers(0, 4), _INSERTS), min_size=1, max_size=4)


def edited(body: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    for position, removed, inserted in edits:
        at = position % (len(body) + 1)
        body = body[:at] + inserted + body[at + removed :]
    return body


def truncation_offsets(size: int, dense_edge: int = 96, stride: int = 1) -> list[int]:
    """Every offset near both ends, every ``stride``-th in between; the full length is excluded."""
    offsets = set(range(0, min(dense_edge, size))) | set(range(max(size - dense_edge, 0), size))
    offsets |= set(range(0, size, stride))
    return sorted(offsets)


def parses_as_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True
