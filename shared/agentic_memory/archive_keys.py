"""Archive keys, identical in S3 and under ``$AGENTIC_MEMORY_HOME/archive/``.

Every id that becomes part of a key is checked against a strict pattern first, so nothing a caller
sends can climb out of a prefix or smuggle a separator into a key. Ids that arrive from outside and do
not fit (an OAuth subject ``google-oauth2|1234``, a SIP call id ``7f3a9c@192.0.2.17``) are encoded
into a safe segment (``encoded_segment``), never refused: a call must start and a signed event must be
kept whatever its ids look like.
"""

import hashlib
import re
import string
from datetime import datetime

from .errors import UnsafeIdentifier

CLIENT_DATA_PREFIX = "client-data/"
POST_CALL_PREFIX = "post-call/"
AUDIO_PREFIX = "post-call/audio-only/"
FAILURE_PREFIX = "post-call/initiation-failure/"
# Audio deliveries too large for the request limit: a record, so the audio is fetched instead.
OVERSIZED_AUDIO_PREFIX = "post-call/oversized-audio/"
# Transcriptions that name nobody (a withheld number, no phone and no user id): kept, but under no
# caller; ``agentic-memory replay`` moves them to their caller once configuration names one.
UNATTRIBUTED_PREFIX = "post-call/unattributed/"
# Signed events of a type we do not process (``voice_removal_notice``, types not yet announced) or in a
# shape we cannot read: kept, answered 200, never processed.
OTHER_PREFIX = "post-call/other/"
# What the processor learns about each agent (its own phone numbers), read by the pre-call.
AGENTS_PREFIX = "agents/"
# An encoded segment: "enc_" and the id's UTF-8 bytes, each byte that is not an ASCII letter, digit or
# "-" written as "_XX" (upper-case hex). Reversible (``decoded_segment``) and itself a safe id.
ENCODED_PREFIX = "enc_"
# An id too long to encode within a segment: "sha_" and the SHA-256 of its UTF-8 bytes (one way).
HASHED_PREFIX = "sha_"
_LITERAL_BYTES = frozenset((string.ascii_letters + string.digits + "-").encode("ascii"))
_ESCAPE = re.compile(r"_([0-9A-F]{2})")
_HASHED = re.compile(r"sha_[0-9a-f]{64}")
# One caller brief per caller, rewritten by the processor after each call, read by the pre-call.
PROFILE_PREFIX = "profiles/"
# One recall index per caller (every call's passages), updated by the processor after each call,
# read by the search_memory tool: a gzip-compressed SQLite database (agentic_memory.recall).
RECALL_PREFIX = "recall/"
RECALL_SUFFIX = ".sqlite.gz"

# Matched with fullmatch: "$" would also accept a trailing newline.
# Conversation, agent and call ids are ASCII words with - and _; E.164 numbers add a leading +.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,127}")
_CALLER = re.compile(r"\+?[A-Za-z0-9][A-Za-z0-9_.@:+\-]{0,127}")
# Prefixes our own layout uses below post-call/: a caller id must never collide with them.
_RESERVED_CALLER_SEGMENTS = {"audio-only", "initiation-failure", "oversized-audio", "unattributed", "other"}
_SEGMENT_LIMIT = 128


def safe_id(value: str, what: str) -> str:
    if not _ID.fullmatch(value):
        raise UnsafeIdentifier(f"{what} is not a safe identifier")
    return value


def safe_caller(value: str) -> str:
    # Case-insensitively: on a case-insensitive file system "Audio-Only" is the audio folder.
    if not _is_plain_caller(value):
        raise UnsafeIdentifier("caller id is not a safe identifier")
    return value


def encoded_segment(value: str) -> str:
    """``value`` as a safe segment (``ENCODED_PREFIX``): ``google-oauth2|12`` → ``enc_google-oauth2_7C12``.

    An id whose encoding would be longer than 128 characters becomes ``sha_`` and its SHA-256 hex.
    """
    raw = value.encode("utf-8", errors="surrogatepass")
    encoded = ENCODED_PREFIX + "".join(chr(b) if b in _LITERAL_BYTES else f"_{b:02X}" for b in raw)
    if len(encoded) <= _SEGMENT_LIMIT:
        return encoded
    return HASHED_PREFIX + hashlib.sha256(raw).hexdigest()


def decoded_segment(segment: str) -> str | None:
    """The id an ``encoded_segment`` holds, or None when ``segment`` is not one (hashes are one way)."""
    if not segment.startswith(ENCODED_PREFIX):
        return None
    body = segment.removeprefix(ENCODED_PREFIX)
    if _ESCAPE.sub("", body).strip(string.ascii_letters + string.digits + "-"):
        return None  # a stray "_" or other character: not our encoding
    raw = _unescape(body)
    try:
        return raw.decode("utf-8", errors="surrogatepass")
    except UnicodeDecodeError:
        return None


def _unescape(body: str) -> bytes:
    out = bytearray()
    index = 0
    while index < len(body):
        if body[index] == "_":
            out.append(int(body[index + 1 : index + 3], 16))
            index += 3
        else:
            out.append(ord(body[index]))
            index += 1
    return bytes(out)


def caller_segment(caller_id: str) -> str:
    """The archive and memory key of a caller id that is no phone number.

    The id itself when it is already a safe caller segment (``user_7f3c``, ``margaret@example.com``),
    otherwise its ``encoded_segment``. Idempotent: a key given back (ElevenLabs echoes the pre-call's
    ``user_id``) is its own key.
    """
    if _verbatim(caller_id) or _HASHED.fullmatch(caller_id):
        return caller_id
    decoded = decoded_segment(caller_id)
    if decoded is not None and encoded_segment(decoded) == caller_id and not _verbatim(decoded):
        return caller_id
    return encoded_segment(caller_id)


def id_segment(value: str) -> str:
    """``value`` when it is a safe id, otherwise its ``encoded_segment`` (a SIP call id, say)."""
    return value if _ID.fullmatch(value) else encoded_segment(value)


def _verbatim(caller_id: str) -> bool:
    # Ids that look like our encodings are encoded themselves, so no two ids share a key.
    return _is_plain_caller(caller_id) and not caller_id.lower().startswith((ENCODED_PREFIX, HASHED_PREFIX))


def _is_plain_caller(value: str) -> bool:
    return (
        bool(_CALLER.fullmatch(value))
        and ".." not in value
        and value.lower() not in _RESERVED_CALLER_SEGMENTS
    )


def client_data_folder(caller_id: str, received_at: datetime, call_sid: str | None) -> str:
    stamp = received_at.strftime("%Y%m%dT%H%M%S") + f"{received_at.microsecond // 1000:03d}Z"
    sid = id_segment(call_sid) if call_sid else "no-call-sid"
    return f"{CLIENT_DATA_PREFIX}{safe_caller(caller_id)}/{stamp}_{sid}/"


def transcription_key(caller_id: str, conversation_id: str) -> str:
    return f"{POST_CALL_PREFIX}{safe_caller(caller_id)}/{safe_id(conversation_id, 'conversation_id')}.json"


def profile_key(caller_id: str, agent_id: str | None = None) -> str:
    """``profiles/{caller}.json``, or ``profiles/{agent_id}/{caller}.json`` for a brief kept per caller
    and agent (``MEMORY_SCOPE=caller_and_agent``)."""
    if agent_id is None:
        return f"{PROFILE_PREFIX}{safe_caller(caller_id)}.json"
    return f"{PROFILE_PREFIX}{safe_id(agent_id, 'agent_id')}/{safe_caller(caller_id)}.json"


def recall_key(caller_id: str, agent_id: str | None = None) -> str:
    """``recall/{caller}.sqlite.gz``, or ``recall/{agent_id}/{caller}.sqlite.gz`` per caller and agent,
    beside the brief (``profile_key``) and scoped the same way."""
    if agent_id is None:
        return f"{RECALL_PREFIX}{safe_caller(caller_id)}{RECALL_SUFFIX}"
    return f"{RECALL_PREFIX}{safe_id(agent_id, 'agent_id')}/{safe_caller(caller_id)}{RECALL_SUFFIX}"


def recall_owner(key: str) -> tuple[str, str | None] | None:
    """The (caller, agent or None) a ``recall_key`` names; None for any other key."""
    if not key.startswith(RECALL_PREFIX) or not key.endswith(RECALL_SUFFIX):
        return None
    parts = key[len(RECALL_PREFIX) : -len(RECALL_SUFFIX)].split("/")
    caller, agent = parts[-1], (parts[0] if len(parts) == 2 else None)
    if len(parts) > 2 or not _is_plain_caller(caller) or (agent is not None and not _ID.fullmatch(agent)):
        return None
    return caller, agent


def profile_owner(key: str) -> tuple[str, str | None] | None:
    """The (caller, agent or None) a ``profile_key`` names; None for any other key."""
    if not key.startswith(PROFILE_PREFIX) or not key.endswith(".json"):
        return None
    parts = key[len(PROFILE_PREFIX) : -len(".json")].split("/")
    caller, agent = parts[-1], (parts[0] if len(parts) == 2 else None)
    if len(parts) > 2 or not _is_plain_caller(caller) or (agent is not None and not _ID.fullmatch(agent)):
        return None
    return caller, agent


def unattributed_transcription_key(conversation_id: str) -> str:
    return f"{UNATTRIBUTED_PREFIX}{safe_id(conversation_id, 'conversation_id')}.json"


def audio_event_key(agent_id: str, conversation_id: str) -> str:
    return f"{AUDIO_PREFIX}{_agent_and_conversation(agent_id, conversation_id)}.json"


def audio_key(agent_id: str, conversation_id: str) -> str:
    return f"{AUDIO_PREFIX}{_agent_and_conversation(agent_id, conversation_id)}.mp3"


def call_audio_keys(agent_id: str, conversation_id: str) -> tuple[str, str, str]:
    """Where a call's audio may be archived under one agent: its event, the MP3, the record of an
    oversized one."""
    return (
        audio_event_key(agent_id, conversation_id),
        audio_key(agent_id, conversation_id),
        oversized_audio_key(agent_id, conversation_id),
    )


def initiation_failure_key(agent_id: str, conversation_id: str) -> str:
    return f"{FAILURE_PREFIX}{_agent_and_conversation(agent_id, conversation_id)}.json"


def oversized_audio_key(agent_id: str, conversation_id: str) -> str:
    return f"{OVERSIZED_AUDIO_PREFIX}{_agent_and_conversation(agent_id, conversation_id)}.json"


def conversation_of_event(key: str) -> str:
    """The conversation segment of a post-call event key (its file name): what a log line may name,
    where the key itself holds the caller's number."""
    return key.rsplit("/", 1)[-1].removesuffix(".json")


def is_post_call_event(key: str) -> bool:
    """True for the raw events the processing queue handles (not the MP3 files it writes)."""
    return key.startswith(POST_CALL_PREFIX) and key.endswith(".json")


def _agent_and_conversation(agent_id: str, conversation_id: str) -> str:
    return f"{safe_id(agent_id, 'agent_id')}/{safe_id(conversation_id, 'conversation_id')}"
