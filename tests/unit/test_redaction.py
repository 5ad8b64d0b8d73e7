"""Sensitive numbers a caller speaks are redacted, by kind, and nothing else is."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic_memory.redaction import (
    ALL_KINDS,
    IBAN_LENGTHS,
    SensitiveKind,
    iban_valid,
    luhn_valid,
    parse_kinds,
    redact,
    redact_named,
)

CARD = SensitiveKind.PAYMENT_CARD
NATIONAL_ID = SensitiveKind.NATIONAL_ID
BANK = SensitiveKind.BANK_ACCOUNT


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        # Visa, grouped by spaces
        ("My card is 4111 1111 1111 1111, expiry May.", "My card is [card number], expiry May."),
        # Mastercard, grouped by dashes
        ("it's 5555-5555-5555-4444", "it's [card number]"),
        # Amex, 15 digits in 4-6-5 groups
        ("Amex 3782 822463 10005.", "Amex [card number]."),
        # Visa, 13 digits in one run
        ("number 4222222222222 ok", "number [card number] ok"),
        # Digit by digit, as a speech recogniser may write it
        ("4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "[card number]"),
        # A year spoken just before the card does not leave the card's last group behind
        ("since 2019 4111 1111 1111 1111 thanks", "since 2019 [card number] thanks"),
    ],
)
def test_a_luhn_valid_card_number_is_redacted(said: str, kept: str) -> None:
    assert redact(said, {CARD}) == kept


@pytest.mark.parametrize(
    "said",
    [
        "4111 1111 1111 1112",  # fails the Luhn check
        "call me on +44 7700 900123 or +1 555 010 0123",  # phone numbers
        "order 1234 5678, reference 2024-03-15 at 10:30",  # short numbers and dates
        "9111 1111 1111 1119",  # no card issuer starts with 9 (Luhn-valid all the same)
    ],
)
def test_numbers_that_are_not_cards_are_kept(said: str) -> None:
    assert redact(said, ALL_KINDS) == said


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        ("My SSN is 123-45-6789.", "My SSN is [national id]."),
        ("it's 123 45 6789", "it's [national id]"),
        ("my social security number is 123456789", "my social security number is [national id]"),
        ("NI number AB 12 34 56 C please", "NI number [national id] please"),
        ("my national insurance is ab123456c", "my national insurance is [national id]"),
        ("passport number is X1234567 and it expires", "passport number is [national id] and it expires"),
    ],
)
def test_a_national_id_is_redacted(said: str, kept: str) -> None:
    assert redact(said, {NATIONAL_ID}) == kept


@pytest.mark.parametrize(
    "said",
    [
        "000-12-3456",  # SSA never allocates area 000
        "666-12-3456",  # nor 666
        "912-12-3456",  # nor 900-999
        "123-00-6789",  # nor group 00
        "GB 12 34 56 A",  # HMRC never allocates the GB prefix
        "QQ 12 34 56 C",  # nor a Q first
        "123456789",  # nine bare digits, not introduced as an SSN
    ],
)
def test_numbers_that_cannot_be_national_ids_are_kept(said: str) -> None:
    assert redact(said, {NATIONAL_ID}) == said


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        ("IBAN GB82 WEST 1234 5698 7654 32 and more", "IBAN [bank account] and more"),
        ("send it to de89370400440532013000.", "send it to [bank account]."),
        ("NO93 8601 1117 947", "[bank account]"),  # the shortest: Norway, 15 characters
        ("my account number is 000123456789.", "my account number is [bank account]."),
        ("routing number 021000021", "routing number [bank account]"),
        ("sort code 12-34-56, account 31926819", "sort code [bank account], account [bank account]"),
        ("Mi número de cuenta es 12345678", "Mi número de cuenta es [bank account]"),
        ("Meine Kontonummer ist 1234567890", "Meine Kontonummer ist [bank account]"),
    ],
)
def test_a_bank_account_is_redacted(said: str, kept: str) -> None:
    assert redact(said, {BANK}) == kept


@pytest.mark.parametrize(
    "said",
    [
        "GB82 WEST 1234 5698 7654 33",  # wrong mod-97 check digits
        "GB82 WEST 1234 5698 7654",  # too short for a British IBAN
        "I've had this account for 12 years",
        "account 123",  # too short to be an account number
    ],
)
def test_what_is_not_a_bank_account_is_kept(said: str) -> None:
    assert redact(said, {BANK}) == said


def test_only_the_configured_kinds_are_redacted() -> None:
    said = "SSN 123-45-6789, card 4111111111111111, IBAN GB82WEST12345698765432"

    assert redact(said, {CARD}) == "SSN 123-45-6789, card [card number], IBAN GB82WEST12345698765432"
    assert redact(said, ALL_KINDS) == "SSN [national id], card [card number], IBAN [bank account]"
    assert redact(said, set()) == said


def test_kinds_parse_from_the_setting() -> None:
    assert parse_kinds("payment_card, BANK_ACCOUNT") == {CARD, BANK}
    assert parse_kinds("all") == ALL_KINDS
    assert parse_kinds("none") == frozenset()
    with pytest.raises(ValueError, match="unknown kinds cards"):
        parse_kinds("cards")


def test_the_checks_agree_with_published_examples() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")  # the Luhn article's example
    assert iban_valid("GB82WEST12345698765432") and iban_valid("FR1420041010050500013M02606")
    assert not iban_valid("GB82WEST12345698765433")
    assert IBAN_LENGTHS["DE"] == 22 and IBAN_LENGTHS["NO"] == 15 and IBAN_LENGTHS["RU"] == 33


@given(st.text(max_size=300))
def test_any_text_comes_back_as_it_was_or_with_a_placeholder(text: str) -> None:
    redacted = redact(text, ALL_KINDS)

    assert redacted == text or "[" in redacted


@pytest.mark.parametrize(
    ("name", "value", "redacted"),
    [
        ("ssn", "123456789", "[national id]"),
        ("Social Security Number", "123 45 6789", "[national id]"),
        ("passport_number", "X1234567", "[national id]"),
        ("credit_card_number", "1234567812345678", "[card number]"),
        ("sort-code", "12-34-56", "[bank account]"),
        ("iban", "12345678", "[bank account]"),
        ("order_id", "123456", "123456"),
        ("customer_account_status", "12345 overdue", "12345 overdue"),
        ("card_number", "ending 1234", "ending 1234"),
        ("pet_name", "Biscuit", "Biscuit"),
        ("notes", "SSN 123-45-6789", "SSN [national id]"),
    ],
)
def test_a_field_name_introduces_its_value(name: str, value: str, redacted: str) -> None:
    assert redact_named(name, value) == redacted


def test_a_field_name_redacts_only_the_kinds_asked_for() -> None:
    assert redact_named("ssn", "123456789", {BANK}) == "123456789"
