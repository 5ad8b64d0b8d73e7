"""Who is on the line: E.164 normalisation, safe caller keys, and the caller of each payload."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic_memory.archive_keys import decoded_segment, safe_caller
from agentic_memory.elevenlabs.conversation_initiation import ConversationInitiationRequest
from agentic_memory.elevenlabs.post_call import TranscriptionData
from agentic_memory.errors import MissingCaller, WithheldCaller
from agentic_memory.identity import (
    caller_key,
    caller_of_initiation,
    caller_of_transcription,
    line_caller_key,
    mask,
    normalise_phone_number,
)
from agentic_memory.withheld import is_withheld

AGENT_NUMBER = "+15550100001"
MARGARET = "+15550100142"
WALTER = "+15550100177"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+15550100142", MARGARET),
        ("+1 555 010 0142", MARGARET),
        ("+1-555-010-0142", MARGARET),
        ("+1 (555) 010-0142", MARGARET),
        ("(555) 010-0142", MARGARET),
        ("555.010.0142", MARGARET),
        ("5550100142", MARGARET),
        ("15550100142", MARGARET),
        ("0015550100142", MARGARET),
        ("00 1 555 010 0142", MARGARET),
        ("  +15550100142\n", MARGARET),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_number_in_any_common_notation_normalises_to_e164(raw: str, expected: str) -> None:
    assert normalise_phone_number(raw) == expected


def test_ten_digit_national_number_takes_the_configured_country_code() -> None:
    assert normalise_phone_number("2079460958", default_country_code="44") == "+442079460958"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "+",
        "hello",
        "555-CALL-NOW",
        "12",
        "+0123456789",
        "+1555010014212345",
        "user_7f3c2a91d4",
        "+1 555 010 0142 ext 7",
    ],
)
def test_text_that_is_not_a_phone_number_normalises_to_none(raw: str) -> None:
    assert normalise_phone_number(raw) is None


@pytest.mark.parametrize("raw", ["５５５０１００１４２", "٥٥٥٠١٠٠١٤٢"], ids=["fullwidth", "arabic-indic"])
def test_non_ascii_digits_never_become_a_non_ascii_key(raw: str) -> None:
    normalised = normalise_phone_number(raw)

    assert normalised is None or normalised.isascii()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (MARGARET, MARGARET),
        ("+1 (555) 010-0142", MARGARET),
        ("user_7f3c2a91d4", "user_7f3c2a91d4"),
        ("margaret@example.com", "margaret@example.com"),
        ("  web-user-42  ", "web-user-42"),
    ],
)
def test_caller_key_is_e164_for_phones_and_the_id_itself_for_safe_opaque_ids(raw: str, expected: str) -> None:
    assert caller_key(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_absent_caller_has_no_key(raw: str | None) -> None:
    assert caller_key(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "../../etc/passwd",
        "..",
        "a..b",
        "user/../../admin",
        "/etc/passwd",
        "..\\..\\windows\\system32",
        "user\\name",
        "user\x00name",
        "ユーザー",
        "naïve-user",
        "u" * 129,
        "-leading-dash",
        "space inside",
        "google-oauth2|1234567890",
    ],
)
def test_ids_that_are_no_safe_segment_get_a_safe_reversible_key_instead_of_an_error(raw: str) -> None:
    key = caller_key(raw)

    assert key is not None and safe_caller(key) == key
    assert key.startswith(("enc_", "sha_"))
    assert decoded_segment(key) in (raw, None)
    assert caller_key(key) == key


def test_separators_inside_a_phone_number_are_dropped_so_the_key_stays_safe() -> None:
    # "/" and "." are phone separators; what remains is a plain E.164 number, not a path.
    assert caller_key("../15550100142") == MARGARET


@given(st.text(max_size=300))
def test_any_text_gives_no_key_or_a_safe_stable_key(raw: str) -> None:
    key = caller_key(raw)

    if key is not None:
        assert safe_caller(key) == key
        assert "/" not in key and "\\" not in key and ".." not in key
        assert "\x00" not in key and not any(c.isspace() for c in key)
        assert 0 < len(key) <= 128
        assert caller_key(key) == key


@given(st.from_regex(r"\A[2-9][0-9]{9}\Z"), st.sampled_from(["", " ", "-", "."]))
def test_any_formatted_ten_digit_number_is_the_north_american_e164(digits: str, separator: str) -> None:
    formatted = separator.join([digits[:3], digits[3:6], digits[6:]])

    assert normalise_phone_number(formatted) == "+1" + digits


@given(st.from_regex(r"\A\+[1-9][0-9]{6,14}\Z"))
def test_e164_numbers_have_a_stable_e164_key_that_fits_an_archive_key(number: str) -> None:
    key = caller_key(number)
    if key is None:  # a carrier's placeholder (+1 000 000 0000) is nobody
        assert is_withheld(number) or is_withheld(normalise_phone_number(number))
        return

    # The plan may drop a trunk prefix written after the country code ("+44 0…"); digits stay digits.
    assert key is not None and key.startswith("+") and key[1:].isdigit()
    assert caller_key(key) == key
    assert safe_caller(key) == key


def initiation(
    caller_id: str | None, called_number: str | None = AGENT_NUMBER
) -> ConversationInitiationRequest:
    return ConversationInitiationRequest(
        agent_id="agent_2401kn076can47sp0fftkzytzrjx", caller_id=caller_id, called_number=called_number
    )


def test_inbound_initiation_caller_is_the_caller_id() -> None:
    assert caller_of_initiation(initiation(MARGARET), agent_numbers={AGENT_NUMBER}) == MARGARET


def test_outbound_initiation_flips_to_the_called_number_when_caller_id_is_the_agent() -> None:
    request = initiation(caller_id="+1 (555) 010-0001", called_number="555-010-0177")

    assert caller_of_initiation(request, agent_numbers={AGENT_NUMBER}) == WALTER


def test_outbound_initiation_without_configured_agent_numbers_cannot_flip() -> None:
    request = initiation(caller_id=AGENT_NUMBER, called_number=WALTER)

    assert caller_of_initiation(request) == AGENT_NUMBER


def test_initiation_from_the_agent_number_without_a_called_number_keeps_the_caller_id() -> None:
    request = initiation(caller_id=AGENT_NUMBER, called_number=None)

    assert caller_of_initiation(request, agent_numbers={AGENT_NUMBER}) == AGENT_NUMBER


def test_initiation_without_caller_id_is_a_missing_caller() -> None:
    with pytest.raises(MissingCaller):
        caller_of_initiation(initiation(caller_id=None))


def test_initiation_with_a_caller_id_that_is_no_number_names_nobody() -> None:
    # A line carries a number; other text there ("../../secrets", "Private Number") is nobody's key
    for raw in ("../../secrets", "Private Number", "Number withheld", "Out of area", "0000", "sip:@host"):
        with pytest.raises(MissingCaller):
            caller_of_initiation(initiation(caller_id=raw))


@pytest.mark.parametrize(
    "raw",
    ["Private Number", "Unknown Caller", "Restricted Number", "No Caller ID", "Number withheld",
     "Not Available", "Out of area", "OUT-OF-AREA", "+", "-", "0000", "+4400000000", "sip:@host",
     "sip:0000@pbx.example"],
)  # fmt: skip
def test_text_on_a_phone_line_that_is_no_number_is_nobody(raw: str) -> None:
    assert line_caller_key(raw, "44") is None
    data = transcription(metadata={"phone_call": {"direction": "inbound", "external_number": raw}})
    with pytest.raises(MissingCaller):
        caller_of_transcription(data, "44")


def test_a_sip_address_with_a_named_user_is_a_caller_on_the_line() -> None:
    assert line_caller_key('"Alice" <sip:Alice@PBX.example.com;transport=tls>') == "alice@pbx.example.com"


def transcription(**data: object) -> TranscriptionData:
    return TranscriptionData.model_validate({"agent_id": "agent_a", "conversation_id": "conv_b", **data})


def test_transcription_caller_is_the_external_number_on_inbound_calls() -> None:
    data = transcription(
        metadata={
            "phone_call": {"direction": "inbound", "agent_number": AGENT_NUMBER, "external_number": MARGARET}
        }
    )

    assert caller_of_transcription(data) == MARGARET


def test_transcription_caller_is_the_external_number_on_outbound_calls_too() -> None:
    data = transcription(
        metadata={
            "phone_call": {"direction": "outbound", "agent_number": AGENT_NUMBER, "external_number": WALTER}
        },
        conversation_initiation_client_data={"dynamic_variables": {"system__caller_id": AGENT_NUMBER}},
    )

    assert caller_of_transcription(data) == WALTER


def test_web_transcription_caller_is_the_user_id() -> None:
    assert caller_of_transcription(transcription(user_id="user_7f3c2a91d4")) == "user_7f3c2a91d4"


def test_without_external_number_or_user_id_the_inbound_system_caller_id_is_used() -> None:
    data = transcription(
        conversation_initiation_client_data={"dynamic_variables": {"system__caller_id": "+1 555 010 0142"}}
    )

    assert caller_of_transcription(data) == MARGARET


def test_without_external_number_an_outbound_call_uses_the_system_called_number() -> None:
    data = transcription(
        metadata={"phone_call": {"direction": "outbound"}},
        conversation_initiation_client_data={
            "dynamic_variables": {"system__caller_id": AGENT_NUMBER, "system__called_number": WALTER}
        },
    )

    assert caller_of_transcription(data) == WALTER


def test_transcription_naming_nobody_is_a_missing_caller() -> None:
    with pytest.raises(MissingCaller):
        caller_of_transcription(transcription(conversation_initiation_client_data=None))


WITHHELD = [
    "anonymous",
    "Restricted",
    "+266696687",
    "+86282452253",
    '"Anonymous" <sip:anonymous@anonymous.invalid>',
]


@pytest.mark.parametrize("placeholder", WITHHELD)
def test_a_placeholder_for_a_withheld_number_has_no_key(placeholder: str) -> None:
    assert caller_key(placeholder) is None


@pytest.mark.parametrize("placeholder", WITHHELD)
def test_an_initiation_from_a_withheld_number_is_a_withheld_caller(placeholder: str) -> None:
    with pytest.raises(WithheldCaller):
        caller_of_initiation(initiation(caller_id=placeholder), agent_numbers={AGENT_NUMBER})


@pytest.mark.parametrize("placeholder", WITHHELD)
def test_a_transcription_from_a_withheld_number_is_a_withheld_caller(placeholder: str) -> None:
    data = transcription(
        metadata={"phone_call": {"direction": "inbound", "external_number": placeholder}},
        conversation_initiation_client_data={"dynamic_variables": {"system__caller_id": placeholder}},
    )

    with pytest.raises(WithheldCaller):
        caller_of_transcription(data)


def test_a_withheld_number_falls_back_to_an_explicit_user_id() -> None:
    data = transcription(
        metadata={"phone_call": {"direction": "inbound", "external_number": "anonymous"}},
        user_id="user_7f3c2a91d4",
    )

    assert caller_of_transcription(data) == "user_7f3c2a91d4"


@pytest.mark.parametrize(("value", "masked"), [(MARGARET, "********0142"), ("abcd", "****"), ("ab", "**")])
def test_mask_keeps_only_the_last_four_characters(value: str, masked: str) -> None:
    assert mask(value) == masked
