"""Audio webhooks too large for the request limit are refused with 413, and not forgotten.

ElevenLabs never retries audio webhooks, so the runtime reads the first bytes of the refused body,
finds which call it was, and archives a record; processing then fetches that call's audio from
ElevenLabs (``ELEVENLABS_API_KEY``), or parks the record in the dead-letter queue until a replay.
The record is unsigned (the signature covers the whole body, which was never read): it can only
ever cause a fetch of a conversation in our own ElevenLabs workspace.
"""

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime

from agentic_memory import archive_keys
from agentic_memory.errors import UnsafeIdentifier
from agentic_memory.ports import Archive
from agentic_memory.post_call import oversized_audio_record

log = logging.getLogger(__name__)
_AUDIO_TYPE = re.compile(rb'"type"\s*:\s*"post_call_audio"')
_AGENT = re.compile(rb'"agent_id"\s*:\s*"([^"\\]{1,128})"')
_CONVERSATION = re.compile(rb'"conversation_id"\s*:\s*"([^"\\]{1,128})"')


def oversized_audio_recorder(archive: Archive) -> Callable[[str, bytes, int], None]:
    def record(path: str, prefix: bytes, size: int) -> None:
        agent = _AGENT.search(prefix)
        conversation = _CONVERSATION.search(prefix)
        if path != "/post-call" or not _AUDIO_TYPE.search(prefix) or not agent or not conversation:
            log.warning("refused a %d-byte body on %s; it names no audio call", size, path)
            return
        try:
            agent_id = archive_keys.safe_id(agent.group(1).decode("ascii"), "agent_id")
            conversation_id = archive_keys.safe_id(conversation.group(1).decode("ascii"), "conversation_id")
        except (UnsafeIdentifier, UnicodeDecodeError):
            log.warning("refused a %d-byte audio body whose ids are not safe", size)
            return
        body = oversized_audio_record(agent_id, conversation_id, size, datetime.now(UTC).isoformat())
        archive.put_new(archive_keys.oversized_audio_key(agent_id, conversation_id), body, "application/json")
        log.warning(
            "audio of conversation %s was %d bytes, over the request limit: it will be fetched",
            conversation_id,
            size,
        )

    return record
