"""Pre-call: who is calling and what the agent should know, always answered in time.

ElevenLabs may not start the call if this webhook fails or times out, and fails it if a dynamic
variable is missing. So the one read on the path, the caller's brief from the archive
(``profiles/{caller_id}.json``), gets only what remains of the budget; a slow or failing read yields
the neutral context, and archive writes run beside the read, not after it. Mem0 is not called: the
brief is the same size for every caller and is there while Mem0 is down.
"""

import json
import logging
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from . import archive_keys, background, caller_links
from .agent_numbers import BUDGET_SHARE, known_agent_numbers
from .call_context import CallContext, Greetings, build_call_context, neutral_call_context
from .caller_profile import CallerProfile
from .elevenlabs.conversation_initiation import (
    ConversationInitiationClientData,
    ConversationInitiationRequest,
)
from .errors import MissingCaller, WithheldCaller
from .identity import caller_of_initiation
from .ports import Archive
from .profile_store import read_profile
from .redaction import redact_fields
from .retention import brief_in_force, cutoff
from .scope import scoped_agent
from .settings import DEFAULT_RETURNING_GREETING_NO_NAME, ConversationInitiationSettings, GreetingSettings

log = logging.getLogger(__name__)
# What the agent hears of past calls: sensitive numbers are redacted from it (REDACT_KINDS).
REPLAYED_FIELDS = ("caller_name", "summary", "context", "first_message")


class ConversationInitiationOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    caller_id: str
    response: ConversationInitiationClientData
    memory_available: bool
    memory_error: str | None = None
    archived: bool = True
    # The caller withheld their number: nobody, so nothing was read or archived.
    withheld: bool = False
    # The request named no caller at all (caller_id null or missing): answered neutral, like withheld.
    missing_caller: bool = False


def greetings_from(
    settings: GreetingSettings, language: str | None = None, outbound: bool = False
) -> Greetings:
    """The greetings for a caller whose last call was in ``language`` (None: not known), on a call the
    agent placed (``outbound``) or took. A language with greetings of its own (GREETINGS_BY_LANGUAGE)
    gets them; the default greetings are for GREETING_LANGUAGE and for callers whose language is not
    known; any other language gets none, so the agent's own first message in that language stands.
    An outbound call never hears the inbound wording ("Thanks for calling")."""
    own = settings.greetings_in(language) if language else None
    if own is not None:
        returning = own.outbound_returning if outbound else own.returning
        greetings = Greetings(
            welcome=None,
            returning=returning,
            returning_without_name=None if outbound else own.returning_without_name,
        )
    elif language and not settings.writes_in(language):
        greetings = Greetings(welcome=None, returning=None, returning_without_name=None)
    elif outbound:
        greetings = Greetings(
            welcome=settings.outbound_welcome_message,
            returning=settings.outbound_returning_greeting,
            returning_without_name=settings.outbound_welcome_message,
        )
    else:
        greetings = Greetings(
            welcome=settings.welcome_message,
            returning=settings.returning_greeting,
            returning_without_name=DEFAULT_RETURNING_GREETING_NO_NAME,
        )
    # ElevenLabs refuses an override the agent does not allow: `language` only where a setting says so.
    override = language if settings.language_override and language else None
    return greetings.model_copy(update={"language": override})


def answer_conversation_initiation(
    request: ConversationInitiationRequest,
    raw_body: bytes,
    settings: ConversationInitiationSettings,
    archive: Archive,
    received_at: datetime,
    deadline: float,
) -> ConversationInitiationOutcome:
    """Build the initiation answer before ``deadline`` (a ``time.monotonic()`` value)."""
    agent_numbers = settings.agent_numbers
    if request.called_number:
        # Outbound only if caller_id is the agent's own number: configured or learned from its calls.
        budget = _remaining(deadline) * BUDGET_SHARE
        agent_numbers = known_agent_numbers(archive, request.agent_id, agent_numbers, budget)
    try:
        caller_id = caller_of_initiation(request, agent_numbers, settings.default_country_code)
        # Outbound: caller_id is the agent's own number, so the person on the line is someone else.
        outbound = caller_id != caller_of_initiation(request, (), settings.default_country_code)
    except WithheldCaller:
        return answer_withheld_caller(settings)
    except MissingCaller:
        # A call must start whatever arrives: nobody named is answered like nobody known.
        return answer_withheld_caller(settings).model_copy(update={"withheld": False, "missing_caller": True})
    if caller_links.is_linkable(caller_id):
        # A WhatsApp business-scoped id linked to the person's number: their memory is the number's.
        caller_id = caller_links.resolve(archive, caller_id)
    folder = archive_keys.client_data_folder(caller_id, received_at, request.call_sid)
    received_write = background.submit(archive.put, folder + "received.json", raw_body, "application/json")
    # MEMORY_SCOPE: the caller's brief, or their brief with this agent (the request names it).
    agent = scoped_agent(request.agent_id, settings.memory_scope)
    read = background.submit(read_profile, archive, caller_id, agent)

    profile, error = _wait_for_brief(read, deadline)
    brief = profile if error is None else None
    response = answer_from_brief(caller_id, brief, settings, received_at, outbound=outbound)
    body = json.dumps(response.to_wire()).encode("utf-8")
    response_write = background.submit(archive.put, folder + "response.json", body, "application/json")
    archived = _wait_for_writes([received_write, response_write], deadline)
    return ConversationInitiationOutcome(
        caller_id=caller_id,
        response=response,
        memory_available=error is None,
        memory_error=error,
        archived=archived,
    )


def answer_from_brief(
    caller_id: str,
    profile: CallerProfile | None,
    settings: ConversationInitiationSettings,
    received_at: datetime,
    outbound: bool = False,
) -> ConversationInitiationClientData:
    """The initiation answer for a caller whose brief is ``profile`` (None: a new caller, or a brief that
    could not be read), on a call the agent took or, ``outbound``, placed. Pure: reads and writes
    nothing, so the console shows exactly what a pre-call at ``received_at`` would answer without
    archiving a pre-call."""
    # RETENTION_DAYS: a brief whose last call is older is not used (the daily purge deletes it).
    profile = brief_in_force(profile, cutoff(settings.retention_days, received_at))
    language = profile.language if profile is not None and profile.call_count else None
    greetings = greetings_from(settings, language, outbound)
    context: CallContext = build_call_context(caller_id, profile, greetings)
    # Memories stored before redaction, or a brief's free text, may still hold a card or an id.
    replayed = [field for field in REPLAYED_FIELDS if getattr(context, field) is not None]
    context = redact_fields(context, replayed, settings.redact_kinds)
    response = context.to_response(settings.prompt_override_template)
    # ElevenLabs echoes user_id as the post-call's data.user_id: the resolved key, whatever the format.
    return response.model_copy(update={"user_id": caller_id})


def answer_withheld_caller(settings: ConversationInitiationSettings) -> ConversationInitiationOutcome:
    """The neutral answer for a withheld number, with ``caller_id`` empty.

    Nothing is read and nothing is archived: every withheld caller shares the placeholder, so any
    memory or archive folder under it would be everybody's, and the request names nobody to keep.
    """
    context = neutral_call_context("", greetings_from(settings))
    return ConversationInitiationOutcome(
        caller_id="",
        response=context.to_response(settings.prompt_override_template),
        memory_available=False,
        withheld=True,
    )


def _wait_for_brief(
    read: "Future[CallerProfile | None]", deadline: float
) -> tuple[CallerProfile | None, str | None]:
    """The brief (None: a new caller) and no error, or no brief and why it could not be read."""
    try:
        return read.result(timeout=_remaining(deadline)), None
    except FutureTimeout:
        return None, "the caller brief read exceeded the pre-call budget"
    except Exception as error:  # any archive failure must still yield an answer
        return None, f"{type(error).__name__}: {error}"


def _wait_for_writes(writes: "list[Future[None]]", deadline: float) -> bool:
    # The archive is a record, not part of the answer: never let it make the answer late. A small
    # grace beyond the budget lets fast local writes finish; slow ones go on in the background.
    ok = True
    for write in writes:
        try:
            write.result(timeout=max(_remaining(deadline), 0.05))
        except FutureTimeout:
            ok = False
        except Exception as error:
            log.warning("pre-call archive write failed: %s", type(error).__name__)
            ok = False
    return ok


def _remaining(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)
