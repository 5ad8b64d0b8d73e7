"""Who is on the line: E.164 normalisation and the caller of each payload.

Memories are keyed by the caller's phone number in E.164. The person on the line is
``metadata.phone_call.external_number`` in post-call events whatever the direction; in the
initiation webhook ``caller_id`` is the agent's own number on outbound calls. A carrier's
placeholder for a withheld number (``withheld``) is nobody: it never becomes a key.
"""

import re
from collections.abc import Collection

from .elevenlabs.initiation import ConversationInitiationRequest
from .elevenlabs.post_call import TranscriptionData
from .errors import MissingCaller, UnsafeIdentifier, WithheldCaller
from .withheld import is_withheld

_SEPARATORS = re.compile(r"[\s().\-/]")
# ASCII digits only: str.isdigit() and \d also accept other scripts' digits.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# Ids that are not phone numbers (WhatsApp ids, web user ids): kept as they are when safe.
_OPAQUE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@:+\-]{0,63}")


def normalise_phone_number(raw: str, default_country_code: str = "1") -> str | None:
    """The E.164 form of ``raw``, or None when it is not a phone number.

    Accepts ``+1 (555) 123-4567``, ``0015551234567``, ``15551234567`` and, for 10-digit national
    numbers, the default country code (North America unless configured otherwise).
    """
    compact = _SEPARATORS.sub("", raw.strip())
    if not compact.isascii():
        return None
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not compact.startswith("+"):
        if not compact.isdigit():
            return None
        compact = "+" + (default_country_code + compact if len(compact) == 10 else compact)
    return compact if _E164.fullmatch(compact) else None


def caller_key(raw: str | None, default_country_code: str = "1") -> str | None:
    """The memory key for a caller id: E.164 for phone numbers, a safe opaque id otherwise.

    None when there is no caller id or only a placeholder for a withheld one.
    """
    if raw is None or not raw.strip() or is_withheld(raw):
        return None
    phone = normalise_phone_number(raw, default_country_code)
    if phone is not None:
        return phone
    candidate = raw.strip()
    if _OPAQUE_ID.fullmatch(candidate) and ".." not in candidate:
        return candidate
    # The id is not echoed: it is attacker-controlled and may be megabytes long.
    raise UnsafeIdentifier("caller id is neither a phone number nor a safe id")


def caller_of_initiation(
    request: ConversationInitiationRequest,
    agent_numbers: Collection[str] = (),
    default_country_code: str = "1",
) -> str:
    """The person on the line for a pre-call request.

    The request carries no direction; when ``caller_id`` is one of the agent's own numbers the call
    is outbound and the person is ``called_number``.
    """
    caller = caller_key(request.caller_id, default_country_code)
    if caller is not None and caller in agent_numbers:
        called = caller_key(request.called_number, default_country_code)
        if called is not None:
            return called
    if caller is not None:
        # called_number is not looked at on inbound calls: a bad one must not stop the call.
        return caller
    if is_withheld(request.caller_id):
        raise WithheldCaller("the caller withheld their number")
    raise MissingCaller("the request carries no caller_id")


def caller_of_transcription(data: TranscriptionData, default_country_code: str = "1") -> str:
    """The person on the line for a post-call transcription.

    ``phone_call.external_number`` first; then ``user_id``; then the system variables, direction
    aware (on outbound calls ``system__caller_id`` is the agent). Placeholders for a withheld number
    are passed over; when nothing else names the caller, that is a ``WithheldCaller``.
    """
    phone_call = data.metadata.phone_call
    if phone_call is not None:
        external = caller_key(phone_call.external_number, default_country_code)
        if external is not None:
            return external
    from_user_id = caller_key(data.user_id, default_country_code)
    if from_user_id is not None:
        return from_user_id
    variables = (
        data.conversation_initiation_client_data.dynamic_variables
        if (data.conversation_initiation_client_data is not None)
        else {}
    )
    outbound = phone_call is not None and phone_call.direction == "outbound"
    name = "system__called_number" if outbound else "system__caller_id"
    value = variables.get(name)
    from_variables = caller_key(value, default_country_code) if isinstance(value, str) else None
    if from_variables is not None:
        return from_variables
    offered = (phone_call.external_number if phone_call is not None else None, data.user_id, value)
    if any(isinstance(raw, str) and is_withheld(raw) for raw in offered):
        raise WithheldCaller("the caller withheld their number")
    raise MissingCaller("the transcription names no caller (no phone_call, user_id or system__caller_id)")


def mask(value: str) -> str:
    """A phone number or id fit for logs: the last four characters only."""
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]
