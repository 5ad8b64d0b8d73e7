"""Identity on every channel (issue 18, item 1): WhatsApp and SMS name the person in their own fields,
WhatsApp ids are the key of the person's phone number (Mexico's old "1", Brazil's ninth digit, both
ways), business-scoped ids are callers of their own, and placeholders are still nobody.

The numbers are made up. North American ones are in the 555-01xx range kept for fiction. Mexico and
Brazil keep no such range: the Mexican ones have a subscriber part starting with 0, which Mexico's
ten-digit plan does not assign, and the Brazilian ones are in area code 23, which is unassigned.
"""

from typing import Any

import pytest

from agentic_memory.elevenlabs.conversation_initiation import ConversationInitiationRequest
from agentic_memory.elevenlabs.post_call import TranscriptionData
from agentic_memory.errors import MissingCaller, WithheldCaller
from agentic_memory.identity import (
    caller_of_initiation,
    caller_of_transcription,
    line_caller_key,
    whatsapp_caller_key,
)
from agentic_memory.whatsapp_numbers import NATIONAL_RULES, todays_form

AGENT = "agent_2401kn076can47sp0fftkzytzrjx"
AGENT_NUMBER = "+15550100001"
WHATSAPP_NUMBER_ID = "106540352242922"
ROSA = "+15550100188"
ROSA_WHATSAPP = "15550100188"
# Mexico: today's form, the WhatsApp id with the old mobile "1", and the old international form.
LUPE = "+525500000142"
LUPE_WHATSAPP = "5215500000142"
# Brazil: a mobile with its ninth digit, and the WhatsApp id of an account registered without it.
TIAGO = "+5523987650142"
TIAGO_WHATSAPP_OLD = "552387650142"
TIAGO_WHATSAPP_NEW = "5523987650142"
BRAZIL_LANDLINE = "+552332650142"
BSUID = "US.13491208655302741918"


def whatsapp_transcription(user_id: str | None = None, **whatsapp: Any) -> TranscriptionData:
    return TranscriptionData.model_validate(
        {
            "agent_id": AGENT,
            "conversation_id": "conv_whatsapp_1",
            "user_id": user_id,
            "metadata": {
                "conversation_initiation_source": "whatsapp",
                "whatsapp": {
                    "direction": "inbound",
                    "whatsapp_phone_number_id": WHATSAPP_NUMBER_ID,
                    **whatsapp,
                },
            },
        }
    )


def sms_transcription(**sms: Any) -> TranscriptionData:
    return TranscriptionData.model_validate(
        {
            "agent_id": AGENT,
            "conversation_id": "conv_sms_1",
            "metadata": {"conversation_initiation_source": "twilio_sms", "sms": sms},
        }
    )


def whatsapp_precall(caller_id: str) -> ConversationInitiationRequest:
    return ConversationInitiationRequest(
        agent_id=AGENT, caller_id=caller_id, called_number=WHATSAPP_NUMBER_ID, call_sid=""
    )


# ---- WhatsApp: the person is whatsapp_user_id ----


def test_a_whatsapp_transcription_without_phone_call_names_the_whatsapp_user():
    # Given a WhatsApp conversation that names the person only in metadata.whatsapp
    data = whatsapp_transcription(whatsapp_user_id=ROSA_WHATSAPP)

    # When its caller is resolved
    caller = caller_of_transcription(data)

    # Then it is the person's number in E.164
    assert caller == ROSA


def test_an_outbound_whatsapp_transcription_still_names_the_user_not_the_agent():
    data = whatsapp_transcription(whatsapp_user_id=ROSA_WHATSAPP, direction="outbound")

    assert caller_of_transcription(data) == ROSA


def test_an_inbound_whatsapp_precall_resolves_to_the_same_key_as_its_transcription():
    # Given a WhatsApp transcription and the pre-call of the next WhatsApp conversation of that person
    post_call = caller_of_transcription(whatsapp_transcription(whatsapp_user_id=ROSA_WHATSAPP))

    # When the pre-call's caller is resolved
    pre_call = caller_of_initiation(whatsapp_precall(ROSA_WHATSAPP), {AGENT_NUMBER})

    # Then both are one key
    assert pre_call == post_call == ROSA


def test_a_whatsapp_id_is_international_whatever_the_configured_country():
    # Given DEFAULT_COUNTRY_CODE=49, where "15550100188" would read as a German national number
    assert line_caller_key(ROSA_WHATSAPP, "49") != ROSA

    # When the same digits arrive as a WhatsApp id, after the conversation and before the next one
    post_call = caller_of_transcription(whatsapp_transcription(whatsapp_user_id=ROSA_WHATSAPP), "49")
    pre_call = caller_of_initiation(whatsapp_precall(ROSA_WHATSAPP), (), "49")

    # Then they are the North American number they are
    assert post_call == pre_call == ROSA


def test_on_whatsapp_a_phone_call_block_and_the_system_variables_are_read_as_whatsapp_ids():
    # Given WhatsApp calls whose only party field is a phone_call block, or the system variables,
    # holding the Mexican WhatsApp id, which the numbering plan alone calls impossible
    on_whatsapp = {"agent_id": AGENT, "conversation_id": "conv_whatsapp_2"}
    in_phone_call = TranscriptionData.model_validate(
        {
            **on_whatsapp,
            "metadata": {
                "conversation_initiation_source": "whatsapp",
                "phone_call": {"direction": "inbound", "external_number": LUPE_WHATSAPP},
            },
        }
    )
    in_variables = TranscriptionData.model_validate(
        {
            **on_whatsapp,
            "metadata": {"conversation_initiation_source": "whatsapp"},
            "conversation_initiation_client_data": {
                "dynamic_variables": {"system__caller_id": LUPE_WHATSAPP}
            },
        }
    )

    # Then each names the caller in today's Mexican form, under any configured country
    assert caller_of_transcription(in_phone_call, "44") == LUPE
    assert caller_of_transcription(in_variables, "44") == LUPE


# ---- Mexico: WhatsApp's "521" + 10 digits is today's "+52" + 10 digits ----


@pytest.mark.parametrize(
    "raw", [LUPE_WHATSAPP, "+" + LUPE_WHATSAPP, "+52 1 55 0000 0142", "00521 55 0000 0142"]
)
def test_a_mexican_mobile_with_the_old_mobile_one_is_the_key_of_today_s_number(raw):
    # Given a Mexican mobile written with the "1" WhatsApp keeps (the plan calls it impossible)
    # When it is read as a WhatsApp id and as a phone line's caller id
    # Then both give today's +52 form
    assert whatsapp_caller_key(raw) == LUPE
    assert line_caller_key(raw) == LUPE


# ---- Brazil: a mobile with or without its ninth digit is one number ----


@pytest.mark.parametrize(
    "raw", [TIAGO_WHATSAPP_OLD, TIAGO_WHATSAPP_NEW, "+55 23 8765-0142", "+55 23 98765-0142"]
)
def test_a_brazilian_mobile_with_or_without_its_ninth_digit_is_one_key(raw):
    assert whatsapp_caller_key(raw) == TIAGO
    assert line_caller_key(raw) == TIAGO


def test_a_brazilian_landline_keeps_its_eight_digits():
    # Given a landline (its eight digits start with 2 to 5): no ninth digit is added
    assert whatsapp_caller_key(BRAZIL_LANDLINE.removeprefix("+")) == BRAZIL_LANDLINE
    assert line_caller_key(BRAZIL_LANDLINE) == BRAZIL_LANDLINE


# ---- Mexico and Brazil, both ways: WhatsApp first, then a phone call, and the other way round ----

OLD_WHATSAPP_FORMS = [
    pytest.param(LUPE_WHATSAPP, LUPE, id="mexico-521"),
    pytest.param(TIAGO_WHATSAPP_OLD, TIAGO, id="brazil-without-ninth-digit"),
]


def phone_transcription(external_number: str) -> TranscriptionData:
    return TranscriptionData.model_validate(
        {
            "agent_id": AGENT,
            "conversation_id": "conv_phone_1",
            "metadata": {"phone_call": {"direction": "inbound", "external_number": external_number}},
        }
    )


@pytest.mark.parametrize(("whatsapp_id", "number"), OLD_WHATSAPP_FORMS)
def test_a_whatsapp_transcription_in_the_old_form_and_a_phone_precall_are_one_caller(whatsapp_id, number):
    # Given the person wrote on WhatsApp from an account in the old form, then phones
    post_call = caller_of_transcription(whatsapp_transcription(whatsapp_user_id=whatsapp_id))
    pre_call = caller_of_initiation(
        ConversationInitiationRequest(agent_id=AGENT, caller_id=number, call_sid="CA1"), {AGENT_NUMBER}
    )

    # Then both are one key, today's number
    assert post_call == pre_call == number


@pytest.mark.parametrize(("whatsapp_id", "number"), OLD_WHATSAPP_FORMS)
def test_a_phone_transcription_and_a_whatsapp_precall_in_the_old_form_are_one_caller(whatsapp_id, number):
    # Given the person phoned, then writes on WhatsApp from an account in the old form
    post_call = caller_of_transcription(phone_transcription(number))
    pre_call = caller_of_initiation(whatsapp_precall(whatsapp_id), {AGENT_NUMBER})

    # Then both are one key, today's number
    assert post_call == pre_call == number


def test_the_national_rules_are_data_with_their_sources_and_apply_once():
    assert {rule.country for rule in NATIONAL_RULES} == {"MX", "BR"}
    assert all(rule.source for rule in NATIONAL_RULES)
    # Today's form is its own today's form, and numbers no rule covers are left alone
    for number in (LUPE, TIAGO, BRAZIL_LANDLINE, ROSA, "+447700900123"):
        assert todays_form(number) == number
    assert todays_form("+" + LUPE_WHATSAPP) == LUPE
    assert todays_form("+" + TIAGO_WHATSAPP_OLD) == TIAGO


# ---- WhatsApp usernames: a business-scoped id is a caller of its own ----


@pytest.mark.parametrize("bsuid", [BSUID, "BR.1502576394655843", "US.ENT.11815799212886844830"])
def test_a_business_scoped_id_is_a_stable_caller_in_the_transcription_and_the_precall(bsuid):
    # Given a person who hides their number behind a WhatsApp username
    post_call = caller_of_transcription(whatsapp_transcription(whatsapp_user_id=bsuid))
    pre_call = caller_of_initiation(whatsapp_precall(bsuid))

    # Then their business-scoped id is their key, the same on both sides, and it is a key as it is
    assert post_call == pre_call == bsuid
    # And it is never a phone number of anyone
    assert whatsapp_caller_key(bsuid) == whatsapp_caller_key(f" {bsuid} ") == bsuid


def test_the_key_of_a_business_scoped_id_given_back_as_user_id_is_the_same_key():
    # ElevenLabs echoes the pre-call's user_id: a transcription naming only that is the same caller
    data = whatsapp_transcription(user_id=BSUID, whatsapp_user_id=None)

    assert caller_of_transcription(data) == BSUID


# ---- SMS: the person is sms_user_phone_number ----


@pytest.mark.parametrize("direction", ["inbound", "outbound"])
def test_an_sms_transcription_names_the_user_in_both_directions(direction):
    # Given an SMS conversation naming the person and the agent in their own fields
    data = sms_transcription(
        direction=direction, sms_user_phone_number="+1 555 010 0188", agent_phone_number=AGENT_NUMBER
    )

    # Then the person is the caller, never the agent
    assert caller_of_transcription(data) == ROSA


def test_an_sms_precall_resolves_to_the_same_key_as_its_transcription():
    data = sms_transcription(direction="inbound", sms_user_phone_number=ROSA, agent_phone_number=AGENT_NUMBER)
    request = ConversationInitiationRequest(
        agent_id=AGENT, caller_id=ROSA, called_number=AGENT_NUMBER, call_sid=""
    )

    assert caller_of_transcription(data) == caller_of_initiation(request, {AGENT_NUMBER}) == ROSA


def test_on_an_outbound_sms_the_system_variable_read_is_the_person_dialled():
    # Given an outbound SMS whose block lacks the person, and the system variables of its conversation
    data = TranscriptionData.model_validate(
        {
            "agent_id": AGENT,
            "conversation_id": "conv_sms_2",
            "metadata": {"sms": {"direction": "outbound", "agent_phone_number": AGENT_NUMBER}},
            "conversation_initiation_client_data": {
                "dynamic_variables": {"system__caller_id": AGENT_NUMBER, "system__called_number": ROSA}
            },
        }
    )

    # Then the person is the number the agent wrote to
    assert caller_of_transcription(data) == ROSA


# ---- placeholders are still nobody ----


@pytest.mark.parametrize("placeholder", ["anonymous", "Unavailable", "+266696687", "0000000000", "0000"])
def test_a_placeholder_in_a_whatsapp_or_sms_field_is_nobody(placeholder):
    whatsapp = whatsapp_transcription(whatsapp_user_id=placeholder)
    sms = sms_transcription(direction="inbound", sms_user_phone_number=placeholder)

    for data in (whatsapp, sms):
        with pytest.raises(MissingCaller):
            caller_of_transcription(data)
    with pytest.raises(MissingCaller):
        caller_of_initiation(whatsapp_precall(placeholder))
    assert whatsapp_caller_key(placeholder) is None


def test_a_withheld_whatsapp_user_is_a_withheld_caller():
    with pytest.raises(WithheldCaller):
        caller_of_transcription(whatsapp_transcription(whatsapp_user_id="Anonymous"))
    with pytest.raises(WithheldCaller):
        caller_of_initiation(whatsapp_precall("Anonymous"))


@pytest.mark.parametrize("raw", ["", "  ", "us.1349", "US.", "US.1349 1208", "whatsapp user", "12"])
def test_text_that_is_no_whatsapp_id_names_nobody(raw):
    assert whatsapp_caller_key(raw) is None
