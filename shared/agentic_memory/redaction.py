"""Sensitive numbers a caller speaks, redacted before anything is replayed into a later call.

    redact("It's 4111 1111 1111 1111, expiry May", ALL_KINDS)  # "It's [card number], expiry May"
    redact("my SSN is 123-45-6789", {SensitiveKind.PAYMENT_CARD})  # unchanged: only cards asked for

Pure text in, text out; the archive keeps the original event. What counts, by kind:

* ``payment_card`` → ``[card number]``: 13 to 19 digits, whole groups separated by single spaces or
  dashes, starting with an issuer digit 2–6 (Visa, Mastercard, Amex, Diners, Discover, JCB,
  UnionPay, Maestro) and passing the Luhn check (ISO/IEC 7812-1).
* ``national_id`` → ``[national id]``: a US Social Security number as ``AAA-GG-SSSS`` or
  ``AAA GG SSSS`` with an allocatable area (not 000, 666 or 900–999), group (not 00) and serial
  (not 0000) — SSA's rules; nine bare digits only after words that introduce one ("SSN",
  "social security number"); a UK National Insurance number (two prefix letters HMRC allocates,
  six digits, suffix A–D, with or without spaces: HMRC manual NIM39110); and any number with
  digits introduced as a passport, national id, tax id or driving licence number.
* ``bank_account`` → ``[bank account]``: an IBAN (ISO 13616: the country's registered length from
  SWIFT's IBAN registry, spaces allowed between groups, ISO 7064 mod-97 check equal to 1), and 4
  to 17 digits (the longest US account number) introduced as an account, routing or sort code
  number, in English and a few other languages the agents speak.

Luhn and mod-97 are a few lines each: python-stdnum, the maintained library for them, unpacks to
3.3 MB (its data files), which the 15 MB Lambda artifact cannot take beside its other packages.
Numbers spelled out in words ("four one one one …") are not recognised.
"""

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel


class SensitiveKind(StrEnum):
    NATIONAL_ID = "national_id"
    PAYMENT_CARD = "payment_card"
    BANK_ACCOUNT = "bank_account"


ALL_KINDS: frozenset[SensitiveKind] = frozenset(SensitiveKind)
PLACEHOLDERS = {
    SensitiveKind.NATIONAL_ID: "[national id]",
    SensitiveKind.PAYMENT_CARD: "[card number]",
    SensitiveKind.BANK_ACCOUNT: "[bank account]",
}

# IBAN length per country code: SWIFT's IBAN registry (release 101).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

_CARD_DIGITS = range(13, 20)
_CARD_ISSUER_DIGITS = frozenset("23456")
# Digit groups separated by one space or dash, not glued to a word or to a "+" (phone numbers).
_DIGIT_RUN = re.compile(r"(?<![\w+])[0-9]+(?:[ -][0-9]+)*(?!\w)")
_DIGIT_GROUP = re.compile(r"[0-9]+")
_SSN = re.compile(r"(?<![\w+])(?<![0-9][ -])([0-9]{3})([ -])([0-9]{2})\2([0-9]{4})(?![ -]?[0-9])(?!\w)")
# HMRC never allocates D, F, I, Q, U, V first, nor D, F, I, O, Q, U, V second, nor these pairs.
_NINO = re.compile(
    r"(?<![\w])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?([0-9]{2}) ?([0-9]{2}) ?([0-9]{2}) ?[A-D](?!\w)",
    re.IGNORECASE,
)
_NINO_UNALLOCATED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
_IBAN_START = re.compile(r"(?<![\w])[A-Za-z]{2}[0-9]{2}")

# What people say between the words that introduce a number and the number itself.
_FILLER = r"(?:[\s:#,=-]|\b(?:is|was|it's|it is|that's|es|est|ist|è|é)\b)*"
_NUMBER_WORDS = r"(?:\s+(?:number|no\.?|num|#))?"
_ACCOUNT_INTRO = re.compile(
    r"\b(?:(?:bank\s+)?account|acct|routing|sort\s+code|kontonummer|numéro\s+de\s+compte"
    r"|número\s+de\s+(?:cuenta|conta)|numero\s+di\s+conto|IBAN)" + _NUMBER_WORDS + _FILLER,
    re.IGNORECASE,
)
_ACCOUNT_NUMBER = re.compile(r"[0-9](?:[ -]?[0-9]){3,16}(?![0-9])")
_ID_INTRO = re.compile(
    r"\b(?:social\s+security|SSN|social|national\s+insurance|NI|national\s+id(?:entity)?|identity\s+card"
    r"|id(?:entity)?|passport|tax\s+id|TIN|driver'?s\s+licen[cs]e|driving\s+licen[cs]e|DNI|NIE|CPF"
    r"|personalausweis|numéro\s+d'identité)" + _NUMBER_WORDS + _FILLER,
    re.IGNORECASE,
)
# Data collection field names for a card (names only: in free text a card is recognised by Luhn).
_CARD_INTRO = re.compile(r"\b(?:(?:credit|debit|payment|bank)\s+)?card" + _NUMBER_WORDS, re.IGNORECASE)
_CARD_MIN_DIGITS = 12
# Groups of letters and digits, each with a digit near its start, e.g. "X1234567", "123 456 789".
_ID_VALUE = re.compile(r"[A-Za-z]{0,3}[0-9][A-Za-z0-9]*(?:[ -][A-Za-z]{0,3}[0-9][A-Za-z0-9]*)*")
_ID_MIN_DIGITS = 5


def redact(text: str, kinds: Iterable[SensitiveKind] = ALL_KINDS) -> str:
    """``text`` with each sensitive number of ``kinds`` replaced by its placeholder."""
    wanted = frozenset(kinds)
    if not text or not wanted or not any(ch.isdigit() for ch in text):
        return text
    if SensitiveKind.BANK_ACCOUNT in wanted:
        text = _redact_ibans(text)
    if SensitiveKind.NATIONAL_ID in wanted:
        text = _NINO.sub(_nino_or_same, text)
        text = _SSN.sub(_ssn_or_same, text)
        text = _redact_introduced(text, _ID_INTRO, _ID_VALUE, SensitiveKind.NATIONAL_ID)
    if SensitiveKind.PAYMENT_CARD in wanted:
        text = _DIGIT_RUN.sub(_cards_in_run, text)
    if SensitiveKind.BANK_ACCOUNT in wanted:
        text = _redact_introduced(text, _ACCOUNT_INTRO, _ACCOUNT_NUMBER, SensitiveKind.BANK_ACCOUNT)
    return text


def redact_named(name: str, value: str, kinds: Iterable[SensitiveKind] = ALL_KINDS) -> str:
    """``value`` of the field ``name`` (a data collection field), redacted: as ``redact`` does, and
    wholly replaced when the whole name introduces a number of a wanted kind (``ssn``,
    ``social_security_number``, ``passport_number``; ``iban``, ``account_number``, ``sort_code``;
    ``card_number``) and the value holds at least as many digits as such a number has (5 for an id,
    4 for an account, 12 for a card): ``redact_named("ssn", "123456789")`` → ``[national id]``.
    A name that merely contains such a word (``order_id``, ``customer_account_status``) is no
    introduction: its value is redacted only where ``redact`` would."""
    wanted = frozenset(kinds)
    cleaned = redact(value, wanted)
    if cleaned != value:
        return cleaned
    label = " ".join(part for part in re.split(r"[\W_]+", name) if part)
    digits = sum(ch.isdigit() for ch in value)
    named = (
        (SensitiveKind.NATIONAL_ID, _ID_INTRO, _ID_MIN_DIGITS),
        (SensitiveKind.BANK_ACCOUNT, _ACCOUNT_INTRO, _minimum_digits(SensitiveKind.BANK_ACCOUNT)),
        (SensitiveKind.PAYMENT_CARD, _CARD_INTRO, _CARD_MIN_DIGITS),
    )
    for kind, introduction, minimum in named:
        whole = introduction.match(label)
        if kind in wanted and whole is not None and whole.end() == len(label) and digits >= minimum:
            return _placeholder(kind)
    return value


def parse_kinds(value: object) -> frozenset[SensitiveKind]:
    """``REDACT_KINDS``: comma-separated kinds, ``all`` or ``none``. Raises ValueError naming the kinds."""
    if isinstance(value, str):
        names = {part.strip().lower() for part in value.split(",") if part.strip()}
    elif isinstance(value, Iterable):
        names = {str(part).strip().lower() for part in value}
    else:
        raise ValueError("must be a comma-separated list of kinds")
    if names == {"none"}:
        return frozenset()
    if names == {"all"}:
        return ALL_KINDS
    unknown = sorted(names - {kind.value for kind in SensitiveKind})
    if unknown:
        choices = ", ".join(kind.value for kind in SensitiveKind)
        raise ValueError(f"unknown kinds {', '.join(unknown)}: use {choices}, all or none")
    return frozenset(SensitiveKind(name) for name in names)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of ISO/IEC 7812-1 over a string of ASCII digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def iban_valid(compact: str) -> bool:
    """An IBAN without spaces: its country's registered length and the ISO 7064 mod-97 check."""
    compact = compact.upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    if not compact.isascii() or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _placeholder(kind: SensitiveKind) -> str:
    return PLACEHOLDERS[kind]


def _cards_in_run(match: re.Match[str]) -> str:
    """The run with every window of whole groups that reads as a card number redacted.

    Every valid window counts, and overlapping ones merge: a year or a reference spoken just before
    the card must not leave the card's last group behind.
    """
    run = match.group(0)
    groups = [(g.start(), g.end()) for g in _DIGIT_GROUP.finditer(run)]
    covered = [False] * len(groups)
    for first in range(len(groups)):
        if run[groups[first][0]] not in _CARD_ISSUER_DIGITS:
            continue
        digits = ""
        for last in range(first, len(groups)):
            digits += run[groups[last][0] : groups[last][1]]
            if len(digits) > _CARD_DIGITS.stop - 1:
                break
            if len(digits) in _CARD_DIGITS and luhn_valid(digits):
                covered[first : last + 1] = [True] * (last + 1 - first)
    if not any(covered):
        return run
    pieces: list[str] = []
    cursor = 0
    index = 0
    while index < len(groups):
        if not covered[index]:
            index += 1
            continue
        end = index
        while end + 1 < len(groups) and covered[end + 1]:
            end += 1
        pieces.append(run[cursor : groups[index][0]])
        pieces.append(_placeholder(SensitiveKind.PAYMENT_CARD))
        cursor = groups[end][1]
        index = end + 1
    pieces.append(run[cursor:])
    return "".join(pieces)


def _ssn_or_same(match: re.Match[str]) -> str:
    area, _, group, serial = match.groups()
    allocatable = area != "000" and area != "666" and area[0] != "9" and group != "00" and serial != "0000"
    return _placeholder(SensitiveKind.NATIONAL_ID) if allocatable else match.group(0)


def _nino_or_same(match: re.Match[str]) -> str:
    if match.group(1).upper() in _NINO_UNALLOCATED:
        return match.group(0)
    return _placeholder(SensitiveKind.NATIONAL_ID)


def _redact_ibans(text: str) -> str:
    pieces: list[str] = []
    cursor = 0
    for start in _IBAN_START.finditer(text):
        if start.start() < cursor:
            continue
        end = _iban_end(text, start.start())
        if end is not None:
            pieces.append(text[cursor : start.start()])
            pieces.append(_placeholder(SensitiveKind.BANK_ACCOUNT))
            cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _iban_end(text: str, start: int) -> int | None:
    """Where the IBAN starting at ``start`` ends, or None when no valid IBAN starts there."""
    length = IBAN_LENGTHS.get(text[start : start + 2].upper())
    if length is None:
        return None
    compact = ""
    position = start
    while position < len(text) and len(compact) < length:
        char = text[position]
        if char.isascii() and char.isalnum():
            compact += char
        elif char not in " -" or not compact:
            return None
        position += 1
    # The IBAN must end where a group ends, not inside a longer code.
    if len(compact) < length or (position < len(text) and text[position].isalnum()):
        return None
    return position if iban_valid(compact) else None


def _redact_introduced(
    text: str, introduction: re.Pattern[str], value: re.Pattern[str], kind: SensitiveKind
) -> str:
    pieces: list[str] = []
    cursor = 0
    for intro in introduction.finditer(text):
        if intro.start() < cursor:
            continue
        number = value.match(text, intro.end())
        if number is None or sum(ch.isdigit() for ch in number.group(0)) < _minimum_digits(kind):
            continue
        pieces.append(text[cursor : number.start()])
        pieces.append(_placeholder(kind))
        cursor = number.end()
    pieces.append(text[cursor:])
    return "".join(pieces)


def _minimum_digits(kind: SensitiveKind) -> int:
    return 4 if kind is SensitiveKind.BANK_ACCOUNT else _ID_MIN_DIGITS


ModelT = TypeVar("ModelT", bound=BaseModel)


def redact_fields(model: ModelT, fields: Iterable[str], kinds: Iterable[SensitiveKind] = ALL_KINDS) -> ModelT:
    """A copy of ``model`` with the text fields ``fields`` redacted (e.g. a call context's summary)."""
    wanted = frozenset(kinds)
    return model.model_copy(update={field: redact(getattr(model, field), wanted) for field in fields})
