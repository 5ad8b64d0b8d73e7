"""Carriers' placeholders for a withheld number, in every notation they arrive in, are nobody."""

import pytest

from agentic_memory.withheld import WITHHELD_WORDS, is_withheld, keypad_digits


@pytest.mark.parametrize(
    ("word", "digits"),
    [
        ("ANONYMOUS", "266696687"),
        ("RESTRICTED", "7378742833"),
        ("UNAVAILABLE", "86282452253"),
        ("BLOCKED", "2562533"),
    ],
)
def test_twilios_numeric_placeholders_are_the_words_keyed_in(word: str, digits: str) -> None:
    assert keypad_digits(word) == digits
    assert word.lower() in WITHHELD_WORDS


@pytest.mark.parametrize(
    "raw",
    [
        # Twilio, as words and as keyed-in numbers, with and without "+" or a North American 1
        "Anonymous",
        "RESTRICTED",
        "Unavailable",
        "unknown",
        "Blocked",
        "+266696687",
        "266696687",
        "1266696687",
        "+1 266 696 687",
        "+86282452253",
        "+7378742833",
        "+2562533",
        # SIP user agents and gateways (RFC 3261 §8.1.1.3, RFC 3323 §4.1.1.3)
        "anonymous@anonymous.invalid",
        "sip:anonymous@anonymous.invalid",
        "sips:thisis@anonymous.invalid",
        '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=35dfsgasd45dg',
        "<sip:Anonymous@10.10.10.2:5060;user=phone>",
        "sip:restricted@pbx.example.com",
        "sip:private@192.0.2.17",
        "tel:+266696687",
        # UK display wording and Kazoo's all-zero number
        "Withheld",
        "0000000000",
        "  anonymous \n",
    ],
)
def test_placeholders_for_a_withheld_number_are_recognised(raw: str) -> None:
    assert is_withheld(raw)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "+15550100142",
        "+44 20 7946 0958",
        "sip:+15550100142@sip.example.com",
        # Cisco's name-only restriction: the display name is hidden, the number is not
        '"Anonymous" <sip:+15550100142@10.10.10.2>',
        "user_7f3c2a91d4",
        "anonymous-fan-42",
        "+2665696687",
    ],
)
def test_real_callers_are_not_placeholders(raw: str | None) -> None:
    assert not is_withheld(raw)
