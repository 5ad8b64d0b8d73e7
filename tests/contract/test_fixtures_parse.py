"""Every recorded ElevenLabs payload parses into its model, and names the right person on the line."""

import base64
import json

import pytest
from pydantic import BaseModel

from agentic_memory.elevenlabs.conversation_initiation import ConversationInitiationRequest
from agentic_memory.elevenlabs.post_call import CallInitiationFailure, PostCallAudio, PostCallTranscription
from agentic_memory.elevenlabs.search_memory import SearchMemoryRequest
from agentic_memory.identity import caller_of_initiation, caller_of_transcription
from devtools.fixtures import fixture_bytes, fixture_names, load_fixture

AGENT_NUMBER = "+15550100001"
MARGARET = "+15550100142"

RECORDED_FIXTURES = [
    "precall_twilio_inbound",
    "precall_twilio_outbound",
    "precall_sip_inbound",
    "precall_whatsapp",
    "transcription_twilio_inbound",
    "transcription_twilio_outbound",
    "transcription_sip",
    "transcription_web",
    "transcription_whatsapp",
    "transcription_returning_caller",
    "audio",
    "initiation_failure_twilio",
    "initiation_failure_sip",
    "tool_search_post",
    "tool_search_get",
]
MODEL_BY_PREFIX: dict[str, type[BaseModel]] = {
    "precall_": ConversationInitiationRequest,
    "transcription_": PostCallTranscription,
    "audio": PostCallAudio,
    "initiation_failure_": CallInitiationFailure,
    "tool_search_": SearchMemoryRequest,
}


def model_of(name: str) -> type[BaseModel]:
    models = [model for prefix, model in MODEL_BY_PREFIX.items() if name.startswith(prefix)]
    assert len(models) == 1, f"fixture {name!r} matches no model prefix"
    return models[0]


def wire_payload(name: str) -> object:
    payload = load_fixture(name)
    # The GET fixture records the query parameters, which is what the retrieve handler parses.
    return payload["query_string"] if name == "tool_search_get" else payload


def transcription(name: str) -> PostCallTranscription:
    return PostCallTranscription.model_validate(load_fixture(name))


def test_every_fixture_the_suites_rely_on_is_recorded() -> None:
    assert set(RECORDED_FIXTURES) <= set(fixture_names())


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_parses_into_its_model(name: str) -> None:
    model = model_of(name)

    parsed = model.model_validate(wire_payload(name))

    assert isinstance(parsed, model)


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_parses_with_an_unknown_field_added_by_elevenlabs(name: str) -> None:
    payload = wire_payload(name)
    assert isinstance(payload, dict)
    payload["field_added_next_year"] = {"nested": [1, 2, 3]}
    if isinstance(payload.get("data"), dict):
        payload["data"]["another_new_field"] = "value"

    parsed = model_of(name).model_validate(payload)

    assert parsed.model_extra is not None and "field_added_next_year" in parsed.model_extra


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_file_is_pretty_printed_utf8_json(name: str) -> None:
    text = fixture_bytes(name).decode("utf-8")

    assert isinstance(json.loads(text), dict)
    assert text.startswith('{\n  "') and text.endswith("}\n")


def test_transcription_keeps_the_extra_fields_it_does_not_model() -> None:
    event = transcription("transcription_twilio_inbound")

    assert event.data.model_extra is not None
    assert event.data.model_extra["has_user_audio"] is True
    assert event.data.has_audio is True
    assert event.data.metadata.model_extra is not None
    assert "deletion_settings" in event.data.metadata.model_extra


def test_tool_only_turns_have_no_message_and_record_the_search_memory_call() -> None:
    event = transcription("transcription_twilio_inbound")

    tool_turns = [turn for turn in event.data.transcript if turn.message is None]

    assert len(tool_turns) == 2
    call, answer = tool_turns
    assert call.tool_calls is not None and call.tool_calls[0].tool_name == "search_memory"
    assert json.loads(call.tool_calls[0].params_as_json or "")["user_id"] == MARGARET
    assert (
        answer.tool_results is not None and answer.tool_results[0].request_id == call.tool_calls[0].request_id
    )
    assert json.loads(answer.tool_results[0].result_value or "") == {"memories": []}


def test_inbound_transcription_carries_the_collected_first_name_and_evaluations() -> None:
    analysis = transcription("transcription_twilio_inbound").data.analysis

    assert analysis is not None
    assert analysis.data_collection_results["first_name"].value == "Margaret"
    assert analysis.evaluation_criteria_results["appointment_booked"].result == "success"


def test_inbound_transcription_carries_the_system_variables() -> None:
    client_data = transcription("transcription_twilio_inbound").data.conversation_initiation_client_data

    assert client_data is not None
    assert client_data.dynamic_variables["system__caller_id"] == MARGARET
    assert client_data.dynamic_variables["system__called_number"] == AGENT_NUMBER


@pytest.mark.parametrize(
    ("name", "expected_caller"),
    [
        ("transcription_twilio_inbound", MARGARET),
        ("transcription_returning_caller", MARGARET),
        ("transcription_twilio_outbound", "+15550100177"),
        ("transcription_sip", "+15550100155"),
        ("transcription_web", "user_7f3c2a91d4"),
        # Only in metadata.whatsapp: the person whose WhatsApp pre-call is precall_whatsapp.
        ("transcription_whatsapp", "+15550100188"),
    ],
)
def test_caller_of_each_transcription_is_the_person_on_the_line(name: str, expected_caller: str) -> None:
    data = transcription(name).data

    assert caller_of_transcription(data) == expected_caller


def test_outbound_transcription_names_the_agent_as_system_caller_but_resolves_to_the_person() -> None:
    data = transcription("transcription_twilio_outbound").data
    assert data.conversation_initiation_client_data is not None
    assert data.conversation_initiation_client_data.dynamic_variables["system__caller_id"] == AGENT_NUMBER

    assert caller_of_transcription(data) == "+15550100177"


def test_returning_caller_fixture_is_a_later_call_from_the_same_number() -> None:
    first = transcription("transcription_twilio_inbound").data
    second = transcription("transcription_returning_caller").data

    assert caller_of_transcription(first) == caller_of_transcription(second)
    assert first.conversation_id != second.conversation_id
    assert (second.metadata.start_time_unix_secs or 0) > (first.metadata.start_time_unix_secs or 0)


@pytest.mark.parametrize(
    ("name", "expected_caller"),
    [
        ("precall_twilio_inbound", MARGARET),
        ("precall_twilio_outbound", "+15550100177"),
        ("precall_sip_inbound", "+15550100155"),
        ("precall_whatsapp", "+15550100188"),
    ],
)
def test_caller_of_each_initiation_request_with_the_agent_number_configured(
    name: str, expected_caller: str
) -> None:
    request = ConversationInitiationRequest.model_validate(load_fixture(name))

    assert caller_of_initiation(request, agent_numbers={AGENT_NUMBER}) == expected_caller


def test_outbound_initiation_without_the_agent_number_configured_resolves_to_the_agent() -> None:
    # Why the agent numbers must be configured: the request itself carries no direction.
    request = ConversationInitiationRequest.model_validate(load_fixture("precall_twilio_outbound"))

    assert caller_of_initiation(request) == AGENT_NUMBER


def test_sip_initiation_carries_call_id_and_headers() -> None:
    request = ConversationInitiationRequest.model_validate(load_fixture("precall_sip_inbound"))

    assert request.call_id
    assert request.sip_headers is not None and request.sip_headers["X-Caller-ID"] == request.caller_id


def test_whatsapp_initiation_has_an_empty_call_sid() -> None:
    request = ConversationInitiationRequest.model_validate(load_fixture("precall_whatsapp"))

    assert request.call_sid == ""


def test_audio_is_a_small_playable_mp3_of_the_inbound_conversation() -> None:
    audio = PostCallAudio.model_validate(load_fixture("audio"))
    inbound = transcription("transcription_twilio_inbound").data

    mp3 = base64.b64decode(audio.data.full_audio, validate=True)

    assert mp3[:3] == b"ID3" or (mp3[0] == 0xFF and mp3[1] & 0xE0 == 0xE0)
    assert 1_000 < len(mp3) < 20_000
    assert (audio.data.agent_id, audio.data.conversation_id) == (inbound.agent_id, inbound.conversation_id)


def test_audio_id3_tag_is_followed_by_an_mpeg_frame_sync() -> None:
    mp3 = base64.b64decode(PostCallAudio.model_validate(load_fixture("audio")).data.full_audio)
    assert mp3[:3] == b"ID3"
    # The ID3v2 tag size is four 7-bit bytes after the 10-byte header.
    tag_size = (mp3[6] << 21) | (mp3[7] << 14) | (mp3[8] << 7) | mp3[9]

    first_frame = mp3[10 + tag_size : 10 + tag_size + 2]

    assert first_frame[0] == 0xFF and first_frame[1] & 0xE0 == 0xE0


@pytest.mark.parametrize(
    ("name", "metadata_type"), [("initiation_failure_twilio", "twilio"), ("initiation_failure_sip", "sip")]
)
def test_initiation_failure_metadata_type_is_twilio_or_sip(name: str, metadata_type: str) -> None:
    failure = CallInitiationFailure.model_validate(load_fixture(name))

    assert failure.data.metadata is not None and failure.data.metadata.type == metadata_type
    assert failure.data.failure_reason in {"busy", "no-answer", "unknown"}


@pytest.mark.parametrize("name", ["tool_search_post", "tool_search_get"])
def test_tool_request_names_the_caller_and_the_query(name: str) -> None:
    request = SearchMemoryRequest.model_validate(wire_payload(name))

    assert request.user_id == MARGARET
    assert "dog" in request.query
