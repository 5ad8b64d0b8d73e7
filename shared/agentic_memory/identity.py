"""Who is on the line: E.164 normalisation and the caller of each payload.

Memories are keyed by the caller's phone number in E.164, normalised by the numbering plan
(``phonenumbers``, lite build) with the region of ``DEFAULT_COUNTRY_CODE`` for national formats, so
``07700 900123``, ``+44 (0)7700 900123`` and ``<sip:07700900123@pbx;user=phone>`` are one caller under
``44``. The person on the line is the channel's own party field in post-call events whatever the
direction (``phone_call.external_number``, ``whatsapp.whatsapp_user_id``, ``sms.sms_user_phone_number``);
in the initiation webhook ``caller_id`` is the agent's own number on outbound calls. A WhatsApp id is
the key of the person's phone number, with the national quirks of ``whatsapp_numbers``, or a
business-scoped id that is a caller of its own.
A carrier's placeholder for a withheld number (``withheld``) is nobody: it never becomes a key. Ids
that are no phone number (web ``user_id``s such as ``google-oauth2|1234``) become a safe, stable and
reversible key (``archive_keys.caller_segment``), never an error.
"""

import re
from collections.abc import Callable, Collection, Sequence
from functools import lru_cache
from typing import Any

import phonenumbers

from .archive_keys import caller_segment
from .elevenlabs.conversation_initiation import ConversationInitiationRequest
from .elevenlabs.post_call import TranscriptionData
from .errors import MissingCaller, WithheldCaller
from .whatsapp_numbers import is_business_scoped_id, number_of_whatsapp_id, todays_form
from .withheld import address_parts, is_withheld

# A phone number as people and systems write it: digits, one leading "+", separators. Checked
# before the numbering plan sees it, which would otherwise pick digits out of ids ("user5550100142")
# and letters out of vanity numbers. ASCII digits only: \d also accepts other scripts' digits.
_PHONE_TEXT = re.compile(r"[\s().\-/]*\+?[0-9\s().\-/]+")
_SEPARATORS = re.compile(r"[\s().\-/]")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_SIP_ADDRESS = re.compile(r"\bsips?:", re.IGNORECASE)


def normalise_phone_number(raw: str, default_country_code: str = "1") -> str | None:
    """The E.164 form of ``raw``, or None when it is not a phone number.

    Accepts international forms (``+44 20 7946 0958``, ``0044…``), national forms of the region of
    ``default_country_code`` (a country calling code such as ``1`` or ``44``) with or without their
    trunk prefix (``07700 900123``, ``(555) 010-0142``), and the number inside a SIP or tel address
    (``"Ann" <sip:+447700900123@host;user=phone>``, ``tel:+1-555-010-0142``). A number the plan
    finds too short or too long for its country is None; one in a country code the plan does not know
    is kept as written when it has E.164's shape. A mobile in a form its country no longer dials
    (Mexico's ``+52 1``, Brazil's eight digits) is given today's (``whatsapp_numbers.NATIONAL_RULES``).
    """
    user, _host = address_parts(raw)
    if not _PHONE_TEXT.fullmatch(user):
        return None
    compact = _SEPARATORS.sub("", user)
    if compact.startswith("00"):
        # The international prefix of most of the world, also sent by systems in countries that
        # dial another one (North America's is 011).
        compact = "+" + compact[2:]
    # An old form written internationally (Mexico's mobile "1", a Brazilian mobile without its ninth
    # digit) is rewritten before parsing: the plan calls the Mexican one impossible.
    compact = todays_form(compact)
    parsed = _parse(compact, _region(default_country_code))
    if parsed is None and not compact.startswith("+"):
        # International digits without their "+", as some SIP trunks and WhatsApp ids give them.
        parsed = _parse(todays_form("+" + compact), "ZZ")
    if parsed is not None:
        return todays_form(_stable_e164(parsed))
    return compact if _E164.fullmatch(compact) and _unknown_country(compact) else None


def caller_key(raw: str | None, default_country_code: str = "1") -> str | None:
    """The memory key for a caller id: E.164 for phone numbers, a safe id for anything else.

    None when there is no caller id or only a placeholder for a withheld one. Ids that are not a
    safe path segment as they are get a reversible encoding (``enc_google-oauth2_7C1234``).
    """
    if raw is None or not raw.strip() or is_withheld(raw):
        return None
    phone = normalise_phone_number(raw, default_country_code)
    if phone is not None:
        # The plan may drop a trunk prefix and land on a placeholder ("+1 1 000 000 0000").
        return None if is_withheld(phone) else phone
    return caller_segment(raw.strip())


def line_caller_key(raw: str | None, default_country_code: str = "1") -> str | None:
    """The memory key for a caller id read off a phone line: E.164, or None.

    ``caller_id``, ``called_number``, ``external_number`` and ``system__caller_id`` name a line, so
    they identify a person only as a phone number (or a SIP address with a user and a host). Carriers
    put other text there for a withheld number, in wordings no list can hold ("Private Number",
    "Number withheld", "Out of area", "0000"): that text must never become a key, or every caller
    it stands for would share one memory. Free-form ids (a web ``user_id``) go through ``caller_key``.
    """
    if raw is None or not raw.strip() or is_withheld(raw):
        return None
    phone = normalise_phone_number(raw, default_country_code)
    if phone is not None:
        return None if is_withheld(phone) or _no_subscriber(phone) else phone
    if not _SIP_ADDRESS.search(raw):
        return None
    user, host = address_parts(raw)
    if not user or not host or is_withheld(user) or _PHONE_TEXT.fullmatch(user):
        # A numeric user part that is no possible number is a placeholder too ("sip:0000@host").
        return None
    return caller_segment(f"{user}@{host}".lower())


def _no_subscriber(e164: str) -> bool:
    """A number whose national part is all zeros ("+44 0000000"): a filler, not a line."""
    parsed = _parse(e164, "ZZ")
    return parsed is not None and parsed.national_number == 0


def _parse(number: str, region: str) -> "phonenumbers.PhoneNumber | None":
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    # Possible, not valid: validity needs allocation data that lags the carriers, and test ranges
    # (555-01xx, Ofcom's drama numbers) are possible but not valid.
    return parsed if phonenumbers.is_possible_number(parsed) else None


def _stable_e164(parsed: "phonenumbers.PhoneNumber") -> str:
    """E.164 that normalises to itself, so a key given back (an echoed ``user_id``) is the same key.

    The plan drops a trunk prefix written after the country code (``+44 0…``); on odd input
    (``+31 0 0…``) the result has another one to drop, so this runs to the fixed point (each round
    is shorter).
    """
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    for _ in range(15):
        again = _parse(e164, "ZZ")
        shorter = phonenumbers.format_number(again, phonenumbers.PhoneNumberFormat.E164) if again else e164
        if shorter == e164:
            break
        e164 = shorter
    return e164


@lru_cache(maxsize=16)
def _region(default_country_code: str) -> str:
    """The numbering plan's main region for a calling code (``44`` → ``GB``, ``1`` → ``US``).

    A two-letter region (``GB``) is accepted as it is; anything else is ``ZZ``: no national format.
    """
    code = default_country_code.strip().removeprefix("+")
    if len(code) == 2 and code.isalpha():
        return code.upper()
    if code.isascii() and code.isdigit():
        return phonenumbers.region_code_for_country_code(int(code))
    return "ZZ"


def _unknown_country(e164: str) -> bool:
    digits = e164[1:]
    return not any(
        phonenumbers.region_code_for_country_code(int(digits[:length])) != "ZZ" for length in (1, 2, 3)
    )


def whatsapp_caller_key(raw: str | None, default_country_code: str = "1") -> str | None:
    """The memory key for a WhatsApp user id: the person's number in E.164, or their own BSUID.

    An id of digits is the number in international form without its "+", never a national number of
    the configured country, in the form the account was registered with: Mexico's old mobile "1" and a
    Brazilian mobile's missing ninth digit are rewritten (``whatsapp_numbers``), so it is the key a
    phone call from that person has. A business-scoped id (``US.1349…``, a person who hid their number
    behind a username) is a caller of its own. Anything else is read as a line's caller id.
    """
    if raw is None or not raw.strip() or is_withheld(raw):
        return None
    text = raw.strip()
    if is_business_scoped_id(text):
        return caller_segment(text)
    number = number_of_whatsapp_id(text)
    return line_caller_key(number if number is not None else text, default_country_code)


KeyReader = Callable[[str | None, str], str | None]


def caller_of_initiation(
    request: ConversationInitiationRequest,
    agent_numbers: Collection[str] = (),
    default_country_code: str = "1",
) -> str:
    """The person on the line for a pre-call request.

    The request carries no direction; when ``caller_id`` is one of the agent's own numbers the call
    is outbound and the person is ``called_number``. Nor does it name the channel, but ``call_sid`` is
    an empty string on WhatsApp and SMS only: there ``caller_id`` is read as a WhatsApp user id (an SMS
    sender's number reads the same either way).
    """
    read: KeyReader = whatsapp_caller_key if request.call_sid == "" else line_caller_key
    caller = read(request.caller_id, default_country_code)
    if caller is not None and caller in agent_numbers:
        called = read(request.called_number, default_country_code)
        if called is not None:
            return called
    if caller is not None:
        # called_number is not looked at on inbound calls: a bad one must not stop the call.
        return caller
    if is_withheld(request.caller_id):
        raise WithheldCaller("the caller withheld their number")
    raise MissingCaller("the request carries no caller_id")


def caller_of_transcription(
    data: TranscriptionData, default_country_code: str = "1", caller_variables: Sequence[str] = ()
) -> str:
    """The person on the line for a post-call transcription.

    The channel's own party field first: ``phone_call.external_number`` (calls), then
    ``whatsapp.whatsapp_user_id`` and ``sms.sms_user_phone_number`` (each the person in both
    directions); then ``user_id``; then the system variables, direction aware (on outbound
    conversations ``system__caller_id`` is the agent); last the dynamic variables named in
    ``caller_variables`` (``CALLER_ID_VARIABLES``: a custom dialer's own variable), in their order. On
    WhatsApp (``conversation_initiation_source`` or a ``whatsapp`` block) the line fields are read as
    WhatsApp ids. Placeholders for a withheld number are passed over; when nothing else names the
    caller, that is a ``WithheldCaller``, and when nothing names anybody a ``MissingCaller``.
    """
    offered = _offered_callers(data, caller_variables)
    for raw, read in offered:
        key = read(raw, default_country_code) if isinstance(raw, str) else None
        if key is not None:
            return key
    if any(isinstance(raw, str) and is_withheld(raw) for raw, _read in offered):
        raise WithheldCaller("the caller withheld their number")
    raise MissingCaller(
        "the transcription names no caller (no phone_call, whatsapp, sms, user_id or system__caller_id)"
    )


def number_beside_business_scoped_id(
    data: TranscriptionData, default_country_code: str = "1", caller_variables: Sequence[str] = ()
) -> tuple[str, str] | None:
    """``(business-scoped id, phone number)`` when the conversation names the person by both: a
    WhatsApp BSUID in ``metadata.whatsapp`` and a phone number in another of its fields (``user_id``,
    the system variables, ``caller_variables``). None otherwise (``caller_links``)."""
    whatsapp = data.metadata.whatsapp
    raw = whatsapp.whatsapp_user_id if whatsapp is not None else None
    if not isinstance(raw, str) or not is_business_scoped_id(raw.strip()):
        return None
    business_scoped = whatsapp_caller_key(raw, default_country_code)
    for offered, read in _offered_callers(data, caller_variables):
        if offered is raw or not isinstance(offered, str):
            continue
        key = read(offered, default_country_code)
        if key is not None and key.startswith("+") and business_scoped is not None:
            return business_scoped, key
    return None


def _offered_callers(data: TranscriptionData, caller_variables: Sequence[str]) -> list[tuple[Any, KeyReader]]:
    """What may name the person, in the order it is believed, each with the reader of its kind."""
    metadata = data.metadata
    phone_call, whatsapp, sms = metadata.phone_call, metadata.whatsapp, metadata.sms
    line: KeyReader = whatsapp_caller_key if metadata.channel == "whatsapp" else line_caller_key
    variables = (
        data.conversation_initiation_client_data.dynamic_variables
        if (data.conversation_initiation_client_data is not None)
        else {}
    )
    system_variable = "system__called_number" if metadata.outbound else "system__caller_id"
    return [
        (phone_call.external_number if phone_call is not None else None, line),
        (whatsapp.whatsapp_user_id if whatsapp is not None else None, whatsapp_caller_key),
        (sms.sms_user_phone_number if sms is not None else None, line_caller_key),
        (data.user_id, caller_key),
        (variables.get(system_variable), line),
        *((variables.get(name), caller_key) for name in caller_variables),
    ]


def mask(value: str) -> str:
    """A phone number or id fit for logs: the last four characters only."""
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]
