"""Receipts of adds with inference, kept in the archive: what keeps processing idempotent when Mem0
extracts facts after answering.

With ``infer`` on, Mem0 Platform answers ``{"event_id", "status": "PENDING"}`` and the extracted
memories appear later. Looking for a conversation's memories (as verbatim adds do) would then find
none while the add is pending, and a re-processing or a duplicate delivery would add the transcript
again. So once Mem0 accepted the add, the processor writes a receipt beside the archived events:
``memory-adds/{caller_id}/{conversation_id}/{type}.json`` = ``{"conversation_id", "type",
"event_id", "memory_ids", "added_at"}`` (the same key in S3 and locally). A conversation that visited
several agents under ``MEMORY_SCOPE=caller_and_agent`` (``transfers``) is added once per agent: the
agents after the first have their receipts under ``…/{conversation_id}/{agent_id}/{type}.json``.
Processing adds nothing for a conversation that has a receipt, or whose extracted memories are
already listed (they carry the metadata sent with the add, ``conversation_id`` and ``type`` included).

What is left: a crash after Mem0 accepted the add and before the receipt was written, followed by a
re-processing while that add is still pending, adds the transcript a second time. Mem0 consolidates
the facts it extracts against the caller's existing ones, so such a repeat mostly extracts nothing
new.
"""

import json
from datetime import UTC, datetime

from . import archive_keys
from .ports import Archive, InferredAdd

MEMORY_ADDS_PREFIX = "memory-adds/"


def receipt_key(
    caller_id: str, conversation_id: str, memory_type: str, later_agent: str | None = None
) -> str:
    """The receipt's key; ``later_agent``: the agent segment of an agent transferred to (not the
    conversation's first agent, whose receipt keeps the key it always had)."""
    caller = archive_keys.safe_caller(caller_id)
    conversation = archive_keys.safe_id(conversation_id, "conversation_id")
    folder = f"{conversation}/{archive_keys.id_segment(later_agent)}" if later_agent else conversation
    return f"{MEMORY_ADDS_PREFIX}{caller}/{folder}/{archive_keys.safe_id(memory_type, 'type')}.json"


def write_receipt(
    archive: Archive, key: str, conversation_id: str, memory_type: str, added: InferredAdd
) -> None:
    receipt = {
        "conversation_id": conversation_id,
        "type": memory_type,
        "event_id": added.event_id,
        "memory_ids": list(added.ids),
        "added_at": datetime.now(UTC).isoformat(),
    }
    archive.put(key, json.dumps(receipt).encode("utf-8"), "application/json")
