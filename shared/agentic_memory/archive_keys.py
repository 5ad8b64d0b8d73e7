"""Archive keys, identical in S3 and under ``$AGENTIC_MEMORY_HOME/archive/``.

Every id that becomes part of a key is checked against a strict pattern first, so nothing a caller
sends can climb out of a prefix or smuggle a separator into a key.
"""

import re
from datetime import datetime

from .errors import UnsafeIdentifier

CLIENT_DATA_PREFIX = "client-data/"
POST_CALL_PREFIX = "post-call/"
AUDIO_PREFIX = "post-call/audio-only/"
FAILURE_PREFIX = "post-call/initiation-failure/"
# Audio deliveries too large for the request limit: a record, so the audio is fetched instead.
OVERSIZED_AUDIO_PREFIX = "post-call/oversized-audio/"
# Transcriptions that name nobody (a withheld number): kept, but under no caller.
UNATTRIBUTED_PREFIX = "post-call/unattributed/"
# One caller brief per caller, rewritten by the processor after each call, read by the pre-call.
PROFILE_PREFIX = "profiles/"

# Matched with fullmatch: "$" would also accept a trailing newline.
# Conversation, agent and call ids are ASCII words with - and _; E.164 numbers add a leading +.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,127}")
_CALLER = re.compile(r"\+?[A-Za-z0-9][A-Za-z0-9_.@:+\-]{0,63}")
# Prefixes our own layout uses below post-call/: a caller id must never collide with them.
_RESERVED_CALLER_SEGMENTS = {"audio-only", "initiation-failure", "oversized-audio", "unattributed"}


def safe_id(value: str, what: str) -> str:
    if not _ID.fullmatch(value):
        raise UnsafeIdentifier(f"{what} is not a safe identifier")
    return value


def safe_caller(value: str) -> str:
    # Case-insensitively: on a case-insensitive file system "Audio-Only" is the audio folder.
    if not _CALLER.fullmatch(value) or ".." in value or value.lower() in _RESERVED_CALLER_SEGMENTS:
        raise UnsafeIdentifier("caller id is not a safe identifier")
    return value


def client_data_folder(caller_id: str, received_at: datetime, call_sid: str | None) -> str:
    stamp = received_at.strftime("%Y%m%dT%H%M%S") + f"{received_at.microsecond // 1000:03d}Z"
    sid = safe_id(call_sid, "call_sid") if call_sid else "no-call-sid"
    return f"{CLIENT_DATA_PREFIX}{safe_caller(caller_id)}/{stamp}_{sid}/"


def transcription_key(caller_id: str, conversation_id: str) -> str:
    return f"{POST_CALL_PREFIX}{safe_caller(caller_id)}/{safe_id(conversation_id, 'conversation_id')}.json"


def profile_key(caller_id: str) -> str:
    return f"{PROFILE_PREFIX}{safe_caller(caller_id)}.json"


def unattributed_transcription_key(conversation_id: str) -> str:
    return f"{UNATTRIBUTED_PREFIX}{safe_id(conversation_id, 'conversation_id')}.json"


def audio_event_key(agent_id: str, conversation_id: str) -> str:
    return f"{AUDIO_PREFIX}{_agent_and_conversation(agent_id, conversation_id)}.json"


def audio_key(agent_id: str, conversation_id: str) -> str:
    return f"{AUDIO_PREFIX}{_agent_and_conversation(agent_id, conversation_id)}.mp3"


def initiation_failure_key(agent_id: str, conversation_id: str) -> str:
    return f"{FAILURE_PREFIX}{_agent_and_conversation(agent_id, conversation_id)}.json"


def oversized_audio_key(agent_id: str, conversation_id: str) -> str:
    return f"{OVERSIZED_AUDIO_PREFIX}{_agent_and_conversation(agent_id, conversation_id)}.json"


def is_post_call_event(key: str) -> bool:
    """True for the raw events the processing queue handles (not the MP3 files it writes)."""
    return key.startswith(POST_CALL_PREFIX) and key.endswith(".json")


def _agent_and_conversation(agent_id: str, conversation_id: str) -> str:
    return f"{safe_id(agent_id, 'agent_id')}/{safe_id(conversation_id, 'conversation_id')}"
