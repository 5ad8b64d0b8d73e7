"""Post-call: acknowledge a signed webhook once it is durably archived, then process it.

The acknowledgement verifies the signature over the raw body, writes the raw event to the archive
with a conditional write (a duplicate delivery finds its key taken and does no new work), and only
then answers 200. Processing is driven by the archive (S3 ObjectCreated → SQS in AWS, an
in-process queue locally) and is idempotent per conversation and event type.
"""

import base64
import binascii
import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from . import archive_keys, caller_links, memory_adds
from .agent_numbers import learn_agent_number
from .caller_profile import call_facts, names_given
from .corrections import (
    Corrections,
    call_was_removed,
    corrected_facts,
    corrected_indexed_call,
    corrected_messages,
    read_corrections,
)
from .elevenlabs import post_call as wire
from .errors import (
    ArchiveUnavailable,
    BadRequest,
    MissingCaller,
    Unauthorized,
    UnsafeIdentifier,
    WithheldCaller,
)
from .identity import caller_of_transcription, number_beside_business_scoped_id
from .memory_building import MemoryDraft, memories_of, why_no_call
from .ports import Archive, AudioSource, InferredAdd, MemoryStore, NoAudio
from .profile_store import record_call
from .recall import store as recall_store
from .recall.calls import indexed_call
from .scope import scoped_user_id
from .settings import IdentitySettings, PostCallSettings, ProcessorSettings
from .signature import SignatureError, verify
from .transfers import agents_in_scope, conversation_agents
from .validation import parse

log = logging.getLogger(__name__)

_EVENT_MODELS: dict[
    str, type[wire.PostCallTranscription | wire.PostCallAudio | wire.CallInitiationFailure]
] = {
    wire.TRANSCRIPTION: wire.PostCallTranscription,
    wire.AUDIO: wire.PostCallAudio,
    wire.INITIATION_FAILURE: wire.CallInitiationFailure,
}


OVERSIZED_AUDIO = "oversized_audio"
# Processing is off the call path: a memory read may take far longer than during the call.
PROCESSING_READ_TIMEOUT_SECONDS = 10.0


class Acknowledgement(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_type: str
    conversation_id: str
    key: str
    duplicate: bool
    # Where it was filed: under its caller or agent ("event"), "unattributed" (a transcription that
    # names nobody) or "other" (a type we do not process, or a shape we cannot read).
    filed: Literal["event", "unattributed", "other"] = "event"


class ProcessingResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    event_type: str
    conversation_id: str
    memories_added: int = 0
    skipped: (
        Literal[
            "already_processed",
            "nothing_to_store",
            "withheld_caller",
            "unattributed",
            "call_did_not_happen",
            "not_processed",
            "removed_by_operator",
        ]
        | None
    ) = None
    # Why a transcription was skipped, in words (e.g. "status is failed"); never personal data.
    reason: str | None = None
    audio_key: str | None = None
    # Adds with inference Mem0 accepted whose memories appear later (Mem0 Platform: ``PENDING``).
    pending_adds: int = 0
    # Whether the call was added to the caller's brief (False: it was already in it).
    brief_updated: bool = False
    # Whether the call was added to the caller's recall index (False: it was already in it).
    call_indexed: bool = False


class PoisonEvent(Exception):
    """An archived event that can never be processed as it is (it goes to the dead-letter queue)."""


def parse_event(raw_body: bytes) -> wire.PostCallEvent:
    try:
        payload = json.loads(raw_body)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
        detail = "it is nested too deeply" if isinstance(error, RecursionError) else str(error)[:200]
        raise BadRequest(f"the body is not valid JSON: {detail}") from None
    if not isinstance(payload, dict):
        raise BadRequest("the body must be a JSON object")
    event_type = payload.get("type")
    model = _EVENT_MODELS.get(event_type) if isinstance(event_type, str) else None
    if model is None:
        raise BadRequest(f"unsupported event type {str(event_type)[:60]!r}")
    return parse(model, payload, str(event_type))


def caller_of(
    data: wire.TranscriptionData, settings: IdentitySettings, archive: Archive | None = None
) -> str:
    """``identity.caller_of_transcription`` with the configured country code and caller variables; a
    WhatsApp business-scoped id is read as the person's number when the conversation names both, or
    (given the ``archive``) when the two were linked before (``caller_links``)."""
    caller_id = caller_of_transcription(data, settings.default_country_code, settings.caller_id_variables)
    if not caller_links.is_linkable(caller_id):
        return caller_id
    both = number_beside_business_scoped_id(data, settings.default_country_code, settings.caller_id_variables)
    if both is not None:
        return both[1]
    return caller_id if archive is None else caller_links.resolve(archive, caller_id)


def archive_key_for(
    event: wire.PostCallEvent, settings: IdentitySettings, archive: Archive | None = None
) -> str:
    if isinstance(event, wire.PostCallTranscription):
        try:
            caller_id = caller_of(event.data, settings, archive)
        except MissingCaller:  # withheld, or no phone, user_id or caller variable at all
            return archive_keys.unattributed_transcription_key(event.data.conversation_id)
        return archive_keys.transcription_key(caller_id, event.data.conversation_id)
    if isinstance(event, wire.PostCallAudio):
        return archive_keys.audio_event_key(event.data.agent_id, event.data.conversation_id)
    return archive_keys.initiation_failure_key(event.data.agent_id, event.data.conversation_id)


def acknowledge(
    raw_body: bytes, signature_header: str | None, settings: PostCallSettings, archive: Archive
) -> Acknowledgement:
    try:
        verify(
            raw_body,
            signature_header,
            settings.reveal(settings.hmac_keys),
            settings.signature_tolerance_seconds,
        )
    except SignatureError as error:
        raise Unauthorized(str(error)) from None
    # Signed is ElevenLabs': never refused (a 4xx is not retried and counts towards disabling the
    # webhook). What we cannot file by its ids is kept under other/ and answered 200 all the same.
    event: wire.PostCallEvent | None
    try:
        parsed = parse_event(raw_body)
        key, event = archive_key_for(parsed, settings, archive), parsed
    except BadRequest:  # unreadable, an unknown type, or ids no key can hold (UnsafeIdentifier)
        event = None
        key = other_event_key(raw_body)
    try:
        stored = archive.put_new(key, raw_body, "application/json")
    except ArchiveUnavailable:
        raise
    except Exception as error:
        # Answer 5xx so that ElevenLabs retries: a 200 is only ever given for a stored event.
        raise ArchiveUnavailable(f"could not archive the event ({type(error).__name__})") from error
    if event is None:
        event_type, conversation_id = _type_and_conversation(raw_body)
        return Acknowledgement(
            event_type=event_type,
            conversation_id=conversation_id,
            key=key,
            duplicate=not stored,
            filed="other",
        )
    filed: Literal["event", "unattributed"] = (
        "unattributed" if key.startswith(archive_keys.UNATTRIBUTED_PREFIX) else "event"
    )
    return Acknowledgement(
        event_type=event.type,
        conversation_id=event.data.conversation_id,
        key=key,
        duplicate=not stored,
        filed=filed,
    )


def other_event_key(raw_body: bytes) -> str:
    """``post-call/other/{type}/{conversation_id}.json`` for an event we do not process.

    Both segments are made safe by encoding (``archive_keys.id_segment``); an event without a type is
    ``untyped``, one without a conversation id is named by the SHA-256 of its body (so a repeated
    delivery is still a duplicate).
    """
    event_type, conversation_id = _type_and_conversation(raw_body)
    type_segment = archive_keys.id_segment(event_type) if event_type else "untyped"
    name = (
        archive_keys.id_segment(conversation_id)
        if conversation_id
        else "sha_" + hashlib.sha256(raw_body).hexdigest()
    )
    return f"{archive_keys.OTHER_PREFIX}{type_segment}/{name}.json"


def _type_and_conversation(raw_body: bytes) -> tuple[str, str]:
    """The event's ``type`` and ``data.conversation_id`` when the body has them as text, else ""."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, RecursionError):
        return "", ""
    if not isinstance(payload, dict):
        return "", ""
    data = payload.get("data")
    conversation_id = data.get("conversation_id") if isinstance(data, dict) else None
    event_type = payload.get("type")
    return (
        event_type if isinstance(event_type, str) else "",
        conversation_id if isinstance(conversation_id, str) else "",
    )


def process_archived_event(
    key: str,
    settings: ProcessorSettings,
    archive: Archive,
    memory: MemoryStore,
    audio_source: AudioSource | None = None,
    fetch_missing_audio: bool = False,
) -> ProcessingResult:
    """Turn one archived event into memories or an MP3. Safe to run again for the same key.

    With ``fetch_missing_audio`` (a replay), a transcription whose call had audio that never arrived
    (too large for the request limit) gets it fetched from ElevenLabs through ``audio_source``.
    """
    if not archive_keys.is_post_call_event(key):
        raise PoisonEvent(f"not a post-call event key: {key}")
    if key.startswith(archive_keys.OVERSIZED_AUDIO_PREFIX):
        return _fetch_oversized_audio(key, archive, audio_source)
    if key.startswith(archive_keys.OTHER_PREFIX):
        # Kept for the record (voice_removal_notice, types not yet known); nothing to process.
        event_type, conversation_id = _type_and_conversation(archive.get(key))
        return ProcessingResult(
            key=key, event_type=event_type, conversation_id=conversation_id, skipped="not_processed"
        )
    try:
        event = parse_event(archive.get(key))
    except BadRequest as error:
        raise PoisonEvent(error.detail) from None
    if isinstance(event, wire.PostCallTranscription):
        # Whoever the caller: the agent's own number lets later outbound pre-calls find the person.
        learn_agent_number(archive, event.data, settings.default_country_code)
        try:
            result = _store_memories(key, event, settings, memory, archive)
        except Exception:
            _remember_without_the_store(key, event, settings, archive)
            raise
        result = _update_caller_brief(result, event, settings, archive)
        result = _update_recall_index(result, event, settings, archive)
        # Real deliveries carry no has_audio: only an explicit False says there is none to fetch.
        if fetch_missing_audio and audio_source is not None and event.data.has_audio is not False:
            audio_key = _fetch_audio_if_missing(
                event.data.agent_id, event.data.conversation_id, archive, audio_source
            )
            result = result.model_copy(update={"audio_key": audio_key})
        return result
    if isinstance(event, wire.PostCallAudio):
        return _store_audio(key, event, archive)
    return ProcessingResult(
        key=key, event_type=event.type, conversation_id=event.data.conversation_id, skipped="nothing_to_store"
    )


def _store_memories(
    key: str,
    event: wire.PostCallTranscription,
    settings: ProcessorSettings,
    memory: MemoryStore,
    archive: Archive,
) -> ProcessingResult:
    data = event.data
    result = ProcessingResult(key=key, event_type=event.type, conversation_id=data.conversation_id)
    # Both checks come before any memory read: a call that did not happen, or one from nobody,
    # must not count as anybody's past call.
    not_a_call = why_no_call(data)
    if not_a_call is not None:
        return result.model_copy(update={"skipped": "call_did_not_happen", "reason": not_a_call})
    try:
        caller_id = caller_of(data, settings, archive)
        _learn_caller_link(data, settings, archive)
    except WithheldCaller:
        return result.model_copy(update={"skipped": "withheld_caller", "reason": "the number was withheld"})
    except MissingCaller:
        # `agentic-memory replay` files it under its caller once configuration names one.
        return result.model_copy(update={"skipped": "unattributed", "reason": "no caller is named"})
    corrections = read_corrections(archive, caller_id)
    if data.conversation_id in corrections.removed_calls():
        # A late or repeated delivery of a call the operator removed: what it archived goes too.
        for removed in (key, *_audio_keys(data)):
            archive.delete(removed)
        return result.model_copy(
            update={"skipped": "removed_by_operator", "reason": "an operator removed it"}
        )
    drafts = memories_of(data, infer=memory.infers, redact_kinds=settings.redact_kinds)
    if not drafts:
        return result.model_copy(update={"skipped": "nothing_to_store"})
    # MEMORY_SCOPE: the caller's memory, or the caller's with each agent the conversation visited.
    added = pending = 0
    for index, agent in enumerate(agents_in_scope(data, settings.memory_scope)):
        later_agent = agent if index else None
        stored_now, pending_now = _store_for(
            caller_id, agent, later_agent, data, drafts, memory, archive, corrections
        )
        added, pending = added + stored_now, pending + pending_now
    if not added and not pending:
        return result.model_copy(update={"skipped": "already_processed"})
    return result.model_copy(update={"memories_added": added, "pending_adds": pending})


def _audio_keys(data: wire.TranscriptionData) -> list[str]:
    """Where the call's audio may be archived, under each agent it visited."""
    agents = {data.agent_id, *conversation_agents(data)}
    return [
        key for agent in agents if agent for key in archive_keys.call_audio_keys(agent, data.conversation_id)
    ]


def _store_for(
    caller_id: str,
    agent: str | None,
    later_agent: str | None,
    data: wire.TranscriptionData,
    drafts: list[MemoryDraft],
    memory: MemoryStore,
    archive: Archive,
    corrections: Corrections,
) -> tuple[int, int]:
    """Add the conversation's memories to one scope's ``user_id`` (the caller's, or the caller's
    with ``agent``); (memories added, adds pending)."""
    user_id = scoped_user_id(caller_id, agent)
    # Idempotency: a retry after a crash between a memory write and the queue's acknowledgement
    # must not store a line twice, so only the lines not yet stored for this conversation go in
    # (a write that failed half-way is completed, not repeated).
    stored = [
        record
        for record in memory.list_all(user_id, PROCESSING_READ_TIMEOUT_SECONDS)
        if record.metadata.get("conversation_id") == data.conversation_id
    ]
    added = pending = 0
    # The names the call gives the caller, read only when an operator's name correction replaces them.
    names = names_given(data) if corrections.operator_name() is not None else ()
    for draft in drafts:
        of_type = [record for record in stored if record.metadata.get("type") == draft.type]
        if draft.infer:
            receipt = memory_adds.receipt_key(caller_id, data.conversation_id, draft.type, later_agent)
            inferred = _add_inferred(
                user_id, data.conversation_id, draft, bool(of_type), receipt, memory, archive
            )
            added += len(inferred.ids) if inferred else 0
            pending += 1 if inferred and inferred.event_id and not inferred.ids else 0
            continue
        stored_texts = {record.text for record in of_type}
        # As the operator left them: renamed, edited, deleted ones not back (``corrections``).
        wanted = corrected_messages(draft.messages, data.conversation_id, draft.type, corrections, names)
        missing = tuple(message for message in wanted if message.content not in stored_texts)
        if missing:
            added += len(memory.add(user_id, missing, draft.metadata))
    return added, pending


def _learn_caller_link(data: wire.TranscriptionData, settings: IdentitySettings, archive: Archive) -> None:
    """A conversation that names the person by a WhatsApp business-scoped id and a number links them."""
    both = number_beside_business_scoped_id(data, settings.default_country_code, settings.caller_id_variables)
    if both is not None:
        caller_links.link(archive, *both)


def _add_inferred(
    user_id: str,
    conversation_id: str,
    draft: MemoryDraft,
    extracted_already: bool,
    receipt: str,
    memory: MemoryStore,
    archive: Archive,
) -> InferredAdd | None:
    """Add a transcript with inference once per conversation; None when it was added before.

    Extracted facts are not the lines sent, so the text comparison of verbatim adds cannot tell what
    is missing, and Mem0 Platform's add is asynchronous: the receipt in the archive (``memory_adds``)
    is what says the add was accepted, even while its memories are still pending. The receipt
    (``memory_adds.receipt_key``) is per conversation and scope; the memories go to ``user_id``.
    """
    if extracted_already or archive.exists(receipt):
        return None
    added = memory.add_inferred(user_id, draft.messages, draft.metadata)
    memory_adds.write_receipt(archive, receipt, conversation_id, draft.type, added)
    return added


def _update_caller_brief(
    result: ProcessingResult, event: wire.PostCallTranscription, settings: ProcessorSettings, archive: Archive
) -> ProcessingResult:
    """Add the call to the caller's brief, after its memories; a call that did not happen, or from
    nobody, is skipped exactly as its memories were."""
    if result.skipped in ("withheld_caller", "unattributed", "call_did_not_happen", "removed_by_operator"):
        return result
    caller_id = caller_of(event.data, settings, archive)
    facts = call_facts(event.data, event.event_timestamp, datetime.now(UTC), settings.redact_kinds)
    facts = corrected_facts(facts, read_corrections(archive, caller_id))
    recorded = [
        record_call(archive, caller_id, facts, agent, settings.retention_days)
        for agent in agents_in_scope(event.data, settings.memory_scope)
    ]
    return result.model_copy(update={"brief_updated": any(recorded)})


def _remember_without_the_store(
    key: str, event: wire.PostCallTranscription, settings: ProcessorSettings, archive: Archive
) -> None:
    """After the memory store failed (Mem0 throttling or down): the brief and the recall index are ours
    and come from the archived event, so the caller is known, and what they said can be found, while
    the queue retries the adds (both updates are idempotent). Their own failure is logged: the store's
    error is the one the queue must see."""
    attempted = ProcessingResult(key=key, event_type=event.type, conversation_id=event.data.conversation_id)
    try:
        _update_recall_index(
            _update_caller_brief(attempted, event, settings, archive), event, settings, archive
        )
    except Exception as error:  # noqa: BLE001 - reported, and the store's error is raised after it
        log.warning("brief and recall index not updated", extra={"reason": f"{type(error).__name__}"})


def _update_recall_index(
    result: ProcessingResult, event: wire.PostCallTranscription, settings: ProcessorSettings, archive: Archive
) -> ProcessingResult:
    """Add the call to the caller's recall index, skipped exactly as the brief is."""
    if result.skipped in ("withheld_caller", "unattributed", "call_did_not_happen", "removed_by_operator"):
        return result
    caller_id = caller_of(event.data, settings, archive)
    corrections = read_corrections(archive, caller_id)
    call = corrected_indexed_call(
        indexed_call(event.data, settings.redact_kinds, corrections.operator_name() is not None), corrections
    )
    indexed = [
        recall_store.add_call(archive, caller_id, call, agent, settings.retention_days)
        for agent in agents_in_scope(event.data, settings.memory_scope)
    ]
    return result.model_copy(update={"call_indexed": any(indexed)})


def _store_audio(key: str, event: wire.PostCallAudio, archive: Archive) -> ProcessingResult:
    if call_was_removed(archive, event.data.agent_id, event.data.conversation_id):
        # The audio of a call an operator removed, delivered (again) after the removal: not kept.
        for removed in (key, archive_keys.audio_key(event.data.agent_id, event.data.conversation_id)):
            archive.delete(removed)
        return ProcessingResult(
            key=key,
            event_type=event.type,
            conversation_id=event.data.conversation_id,
            skipped="removed_by_operator",
            reason="an operator removed the call",
        )
    try:
        audio = base64.b64decode(event.data.full_audio, validate=True)
    except (binascii.Error, ValueError):
        raise PoisonEvent("full_audio is not valid base64") from None
    if not looks_like_mp3(audio):
        raise PoisonEvent("full_audio is not an MP3 stream")
    audio_key = archive_keys.audio_key(event.data.agent_id, event.data.conversation_id)
    archive.put(audio_key, audio, "audio/mpeg")
    return ProcessingResult(
        key=key, event_type=event.type, conversation_id=event.data.conversation_id, audio_key=audio_key
    )


def oversized_audio_record(
    agent_id: str, conversation_id: str, content_length: int, received_at: str
) -> bytes:
    record = {
        "type": OVERSIZED_AUDIO,
        "agent_id": agent_id,
        "conversation_id": conversation_id,
        "content_length": content_length,
        "received_at": received_at,
    }
    return json.dumps(record).encode("utf-8")


def _fetch_audio_if_missing(
    agent_id: str, conversation_id: str, archive: Archive, source: AudioSource
) -> str | None:
    """The MP3's key once archived, fetching it if needed; None when ElevenLabs has no audio."""
    audio_key = archive_keys.audio_key(agent_id, conversation_id)
    if not archive.exists(audio_key):
        try:
            audio = source.fetch_audio(conversation_id)
        except NoAudio:
            return None
        if not looks_like_mp3(audio):
            raise PoisonEvent("the fetched conversation audio is not an MP3 stream")
        archive.put(audio_key, audio, "audio/mpeg")
    return audio_key


def _fetch_oversized_audio(key: str, archive: Archive, audio_source: AudioSource | None) -> ProcessingResult:
    try:
        record = json.loads(archive.get(key))
        agent_id = archive_keys.safe_id(str(record["agent_id"]), "agent_id")
        conversation_id = archive_keys.safe_id(str(record["conversation_id"]), "conversation_id")
    except (ValueError, KeyError, TypeError, UnsafeIdentifier):
        raise PoisonEvent("unreadable oversized-audio record") from None
    result = ProcessingResult(key=key, event_type=OVERSIZED_AUDIO, conversation_id=conversation_id)
    if call_was_removed(archive, agent_id, conversation_id):
        archive.delete(key)
        return result.model_copy(
            update={"skipped": "removed_by_operator", "reason": "an operator removed it"}
        )
    audio_key = archive_keys.audio_key(agent_id, conversation_id)
    if archive.exists(audio_key):
        return result.model_copy(update={"skipped": "already_processed", "audio_key": audio_key})
    if audio_source is None:
        raise PoisonEvent("the audio was too large to accept and ELEVENLABS_API_KEY is not set to fetch it")
    return result.model_copy(
        update={"audio_key": _fetch_audio_if_missing(agent_id, conversation_id, archive, audio_source)}
    )


def looks_like_mp3(audio: bytes) -> bool:
    """An ID3 tag or an MPEG audio frame sync at the start."""
    return audio.startswith(b"ID3") or (len(audio) > 1 and audio[0] == 0xFF and audio[1] & 0xE0 == 0xE0)
