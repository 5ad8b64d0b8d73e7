"""Audio of long calls: fetched from ElevenLabs when its webhook never came.

A call over about 4.5 minutes makes an audio webhook over Lambda's 6 MB request limit, which API
Gateway refuses before any function runs, and ElevenLabs does not retry it. So once a transcription
is processed, the processor sends itself a delayed message (``AUDIO_FETCH_DELAY_SECONDS``, SQS
``DelaySeconds`` in AWS, a timer locally) naming the conversation:

    {"type": "fetch_audio_if_missing", "agent_id": "...", "conversation_id": "..."}

When it comes back, the check is idempotent: if the MP3 is archived by then (the webhook came), nothing
is fetched; otherwise ElevenLabs' ``GET /v1/convai/conversations/{id}/audio`` is, into
``post-call/audio-only/{agent_id}/{conversation_id}.mp3``. Only with ``ELEVENLABS_API_KEY`` set.
"""

import json

from pydantic import BaseModel, ConfigDict, ValidationError

from . import archive_keys
from .elevenlabs import post_call as wire
from .errors import UnsafeIdentifier
from .ports import Archive, AudioSource, DelayedMessages, NoAudio
from .post_call import PoisonEvent, ProcessingResult, looks_like_mp3, parse_event

FETCH_AUDIO = "fetch_audio_if_missing"


class AudioCheck(BaseModel):
    """The delayed message's body."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = FETCH_AUDIO
    agent_id: str
    conversation_id: str


def audio_check_of(message_body: str) -> AudioCheck | None:
    """The check a queue message carries, or None for any other message (an S3 notification)."""
    try:
        payload = json.loads(message_body)
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("type") != FETCH_AUDIO:
        return None
    try:
        return AudioCheck.model_validate(payload)
    except ValidationError:
        raise PoisonEvent("an audio check message without its agent and conversation ids") from None


def schedule_audio_check(
    key: str,
    result: ProcessingResult,
    archive: Archive,
    audio_source: AudioSource | None,
    messages: DelayedMessages | None,
    delay_seconds: int,
) -> bool:
    """After the transcription at ``key`` was processed, schedule the check of its audio; True if sent.

    Nothing is scheduled without an audio source (no ``ELEVENLABS_API_KEY``) or a queue, for a call
    that did not happen, a transcription that says it has no audio (real deliveries leave
    ``has_audio`` out: that is not a no), or when the MP3 is archived already.
    """
    if audio_source is None or messages is None or result.event_type != wire.TRANSCRIPTION:
        return False
    if result.skipped == "call_did_not_happen":
        return False
    event = parse_event(archive.get(key))
    if not isinstance(event, wire.PostCallTranscription) or event.data.has_audio is False:
        return False
    check = AudioCheck(agent_id=event.data.agent_id, conversation_id=event.data.conversation_id)
    if archive.exists(archive_keys.audio_key(check.agent_id, check.conversation_id)):
        return False
    messages.send(check.model_dump_json(), delay_seconds)
    return True


def check_audio(check: AudioCheck, archive: Archive, audio_source: AudioSource | None) -> ProcessingResult:
    """Fetch the conversation's audio unless it is archived already. Raises ``PoisonEvent`` for ids no
    key can hold or audio that is no MP3; a failed fetch raises as it is (the queue retries it)."""
    try:
        agent_id = archive_keys.safe_id(check.agent_id, "agent_id")
        conversation_id = archive_keys.safe_id(check.conversation_id, "conversation_id")
    except UnsafeIdentifier as error:
        raise PoisonEvent(str(error)) from None
    audio_key = archive_keys.audio_key(agent_id, conversation_id)
    result = ProcessingResult(
        key=audio_key, event_type=FETCH_AUDIO, conversation_id=conversation_id, audio_key=audio_key
    )
    if archive.exists(audio_key):
        return result.model_copy(update={"skipped": "already_processed"})
    if audio_source is None:  # the key was removed since the check was scheduled
        return result.model_copy(
            update={"skipped": "not_processed", "reason": "ELEVENLABS_API_KEY is not set", "audio_key": None}
        )
    try:
        audio = audio_source.fetch_audio(conversation_id)
    except NoAudio:
        return result.model_copy(
            update={"skipped": "nothing_to_store", "reason": "ElevenLabs has no audio", "audio_key": None}
        )
    if not looks_like_mp3(audio):
        raise PoisonEvent("the fetched conversation audio is not an MP3 stream")
    archive.put(audio_key, audio, "audio/mpeg")
    return result
