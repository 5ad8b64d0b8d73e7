"""Carriers' placeholders for a withheld number: they name nobody.

A caller who withholds their number (CLIR, ``*67``) still arrives with something in the caller id
field: a fixed placeholder that every withheld caller shares. Taken as an identity it would pour
all of them into one memory, so a placeholder is never a caller key (see ``identity``).

The placeholders, as data (the sources say which carrier or standard uses each):

* Twilio presents withheld caller ids as the words ANONYMOUS, RESTRICTED, UNAVAILABLE, UNKNOWN,
  BLOCKED, and Programmable Voice long delivered them translated into their keypad digits
  (ANONYMOUS → +266696687, RESTRICTED → +7378742833, UNAVAILABLE → +86282452253, BLOCKED →
  +2562533); Twilio's changelog "Upcoming changes to withheld caller ID behavior for <Dial> calls"
  (2022-11-16) describes both forms. So every word below is matched spelled and keyed in.
* SIP: RFC 3261 §8.1.1.3 (display name "Anonymous", a meaningless URI such as
  ``sip:thisis@anonymous.invalid``) and RFC 3323 §4.1.1.3 (``"Anonymous"
  <sip:anonymous@anonymous.invalid>``); Avaya IP Office and AudioCodes gateways send exactly that;
  Cisco CUCM sends ``sip:Anonymous@host``; AudioCodes treats "Private" as restricted.
* "Withheld" is how UK networks display it (NFON, "What is a withheld number?").
* 2600Hz Kazoo shows privacy-flagged calls as "anonymous" and ``0000000000``.

An empty caller id is no placeholder but an absence; ``identity.caller_key`` gives it no key.
"""

import re

# The words carriers and SIP user agents put where the number would be (case-insensitive).
WITHHELD_WORDS = frozenset(
    {"anonymous", "restricted", "unavailable", "unknown", "blocked", "private", "withheld"}
)
# Numbers that are placeholders without being the keypad spelling of a word above.
WITHHELD_NUMBERS = frozenset({"0000000000"})
# RFC 3323's host for an anonymous From URI (any user part on it is nobody).
ANONYMOUS_HOST = "anonymous.invalid"

_KEYPAD = {letter: digit for digit, letters in {
    "2": "abc", "3": "def", "4": "ghi", "5": "jkl", "6": "mno", "7": "pqrs", "8": "tuv", "9": "wxyz"
}.items() for letter in letters}  # fmt: skip
_SCHEME = re.compile(r"(?i)^(?:sips?|tel):")
_SEPARATORS = re.compile(r"[\s().\-/]")


def keypad_digits(word: str) -> str:
    """``word`` keyed in on a telephone keypad: ``"anonymous"`` → ``"266696687"``."""
    return "".join(_KEYPAD[letter] for letter in word.lower())


_KEYED_IN = frozenset(keypad_digits(word) for word in WITHHELD_WORDS)


def is_withheld(raw: str | None) -> bool:
    """True when ``raw`` is a carrier's placeholder for a withheld number, in any of its notations.

    Accepts the bare word or number (``Anonymous``, ``+266696687``, ``1266696687``) and SIP or tel
    addresses with a display name, angle brackets, host and parameters
    (``"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1``).
    """
    if raw is None:
        return False
    user, host = _user_and_host(raw)
    if host == ANONYMOUS_HOST or user in WITHHELD_WORDS:
        return True
    digits = _SEPARATORS.sub("", user).removeprefix("+")
    if not (digits.isascii() and digits.isdigit()):
        return False
    # Twilio's keyed-in words arrive with a "+" and, through North American systems, a leading 1.
    candidates = {digits, digits.removeprefix("00"), digits[1:] if digits.startswith("1") else digits}
    return any(c in _KEYED_IN or c in WITHHELD_NUMBERS for c in candidates)


def address_parts(raw: str) -> tuple[str, str]:
    """The user part and host of a SIP or tel address, or the whole text as the user part.

    ``"Alice" <sip:+447700900123@pbx.example;user=phone>`` → ``("+447700900123", "pbx.example")``:
    the display name, angle brackets, scheme (``sip:``, ``sips:``, ``tel:``), ``;parameters``,
    ``?headers`` and port are dropped; case is kept.
    """
    text = raw.strip()
    if "<" in text and ">" in text.split("<", 1)[1]:
        # A display name is only a name: "Anonymous" <sip:+15550100142@host> withholds nothing.
        text = text.split("<", 1)[1].split(">", 1)[0]
    text = _SCHEME.sub("", text.strip()).split(";", 1)[0].split("?", 1)[0]
    user, _, host = text.partition("@")
    return user.strip().strip('"'), host.strip().split(":", 1)[0]


def _user_and_host(raw: str) -> tuple[str, str]:
    user, host = address_parts(raw)
    return user.lower(), host.lower()
