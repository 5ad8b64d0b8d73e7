"""Every real caller, every real delivery (issue 11, items 2, 4 and 5), through the real handlers.

One person is one key whatever the format under a non-North-American ``DEFAULT_COUNTRY_CODE``; a
call that names nobody, or whose ids fit no path, still starts and is still kept; web user ids of
any printable form are callers; the agent's own numbers are learned from its calls.
"""

import json
from typing import Any

import pytest
from helpers import api_event, lambda_context, response_json, signed_headers, sqs_event

from agentic_memory import agent_numbers
from agentic_memory.elevenlabs.post_call import TranscriptionData
from agentic_memory.settings import Settings
from agentic_memory.wiring import Dependencies, use_dependencies
from devtools.fakes import InMemoryArchive, InMemoryMemoryStore
from devtools.fixtures import load_fixture
from local_runtime.operations import replay
from services.conversation_initiation import handler as conversation_initiation_handler
from services.post_call import handler as post_call_handler
from services.post_call.processor import lambda_handler as process
from services.search_memory.handler import lambda_handler as search_memory

AGENT = "agent_2401kn076can47sp0fftkzytzrjx"
# A UK mobile in Ofcom's range for drama (07700 900000-900999), and a London number for the agent.
ANN = "+447700900123"
ANN_FORMATS = [
    "07700 900123",
    "07700900123",
    "7700 900123",
    "+44 7700 900123",
    "+44 (0)7700 900-123",
    "0044 7700 900123",
    ANN,
    "<sip:07700900123@pbx.example.co.uk;user=phone>",
    '"Ann" <sips:+447700900123@trunk.example:5061>;tag=9a7f',
    "tel:+44-7700-900123",
]
AGENT_LINE = "+442079460018"


@pytest.fixture
def settings(keys: dict[str, str], tmp_path: Any) -> Settings:
    return uk_settings(keys, tmp_path)


def uk_settings(keys: dict[str, str], tmp_path: Any, **more: str) -> Settings:
    return Settings.from_environment(
        {
            "ELEVENLABS_WORKSPACE_KEY": keys["workspace"],
            "ELEVENLABS_HMAC_KEY": keys["hmac"],
            "AGENTIC_MEMORY_HOME": str(tmp_path / "home"),
            "DEFAULT_COUNTRY_CODE": "44",
            **more,
        }
    )


def transcription(conversation_id: str, **data: Any) -> dict[str, Any]:
    event = load_fixture("transcription_twilio_inbound")
    event["data"].update(conversation_id=conversation_id, **data)
    return event


def with_phone_call(event: dict[str, Any], **phone_call: Any) -> dict[str, Any]:
    event["data"]["metadata"]["phone_call"] = phone_call
    return event


def deliver(deps: Dependencies, keys: dict[str, str], event: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(event).encode()
    lambda_event = api_event("POST", "/post-call", body, signed_headers(body, keys["hmac"]))
    return post_call_handler.lambda_handler(lambda_event, lambda_context("post-call"))


def deliver_and_process(deps: Dependencies, keys: dict[str, str], event: dict[str, Any]) -> None:
    assert deliver(deps, keys, event)["statusCode"] == 200
    for key in list(deps.archive.keys("post-call/")):
        assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}


def initiate_conversation(keys: dict[str, str], request: dict[str, Any]) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "X-Workspace-Key": keys["workspace"]}
    event = api_event("POST", "/client-data", json.dumps(request).encode(), headers)
    return conversation_initiation_handler.lambda_handler(event, lambda_context("client-data"))


def search(user_id: str, query: str = "what is the dog called") -> dict[str, Any]:
    body = json.dumps({"query": query, "user_id": user_id}).encode()
    event = api_event("POST", "/retrieve", body, {"Content-Type": "application/json"})
    return search_memory(event, lambda_context("retrieve"))


def recorded_metrics(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[str]:
    names: list[str] = []
    monkeypatch.setattr(module.metrics, "add_metric", lambda name, unit, value: names.append(name))
    return names


# ---- item 4: one person, one key, whatever the format ----


@pytest.mark.parametrize("stored_as", ["07700 900123", "<sip:07700900123@pbx.example.co.uk;user=phone>"])
def test_a_uk_caller_is_one_caller_in_every_format_through_initiation_post_call_and_the_tool(
    deps, keys, stored_as
):
    # Given DEFAULT_COUNTRY_CODE=44 and a call whose external number arrived in a national format
    deliver_and_process(
        deps,
        keys,
        with_phone_call(transcription("conv_ann_1"), direction="inbound", external_number=stored_as),
    )

    # Then it is remembered under Ann's E.164 number
    assert deps.memory.list_all(ANN)
    assert list(deps.archive.keys(f"post-call/{ANN}/")) == [f"post-call/{ANN}/conv_ann_1.json"]
    for raw in ANN_FORMATS:
        # And a pre-call in any format finds her as a returning caller
        answer = response_json(
            initiate_conversation(keys, {"agent_id": AGENT, "caller_id": raw, "call_sid": "CA1"})
        )
        assert answer["dynamic_variables"]["returning_caller"] == "yes", raw
        assert answer["dynamic_variables"]["caller_id"] == ANN, raw
        assert answer["user_id"] == ANN, raw
        # And the tool, given her number in any format, searches her memories
        assert response_json(search(raw))["memories"], raw


def test_system_caller_id_in_a_national_format_names_the_same_caller(deps, keys):
    # Given a transcription without phone_call whose system__caller_id is national
    event = transcription("conv_ann_2", user_id=None)
    event["data"]["metadata"].pop("phone_call", None)
    event["data"]["conversation_initiation_client_data"] = {
        "dynamic_variables": {"system__caller_id": "07700 900 123"}
    }
    deliver_and_process(deps, keys, event)

    assert list(deps.archive.keys("post-call/")) == [f"post-call/{ANN}/conv_ann_2.json"]
    assert deps.memory.list_all(ANN)


def test_agent_phone_numbers_in_a_national_format_make_an_outbound_initiation_resolve(deps, keys, tmp_path):
    # Given the agent's line configured as a London number in its national format
    settings = uk_settings(keys, tmp_path, AGENT_PHONE_NUMBERS="020 7946 0018")
    assert settings.agent_numbers == frozenset({AGENT_LINE})
    use_dependencies(Dependencies(settings=settings, memory=deps.memory, archive=deps.archive))

    # When the agent calls Ann
    request = {"agent_id": "agent_configured", "caller_id": AGENT_LINE, "called_number": "07700 900123"}
    answer = response_json(initiate_conversation(keys, request))

    # Then the pre-call is about Ann
    assert answer["dynamic_variables"]["caller_id"] == ANN
    assert answer["user_id"] == ANN


# ---- item 2: nothing signed is refused, and every call can start ----


@pytest.mark.parametrize(
    "request_body",
    [
        {"agent_id": AGENT, "caller_id": None, "called_number": AGENT_LINE},
        {"agent_id": AGENT},
        {"agent_id": AGENT, "caller_id": "", "call_sid": "7f3a9c@192.0.2.17"},
    ],
    ids=["null-caller", "missing-caller", "empty-caller"],
)
def test_an_initiation_naming_nobody_starts_with_neutral_variables_and_is_counted(
    deps, keys, monkeypatch, request_body
):
    counted = recorded_metrics(monkeypatch, conversation_initiation_handler)

    response = initiate_conversation(keys, request_body)

    assert response["statusCode"] == 200
    answer = response_json(response)
    assert answer["dynamic_variables"]["returning_caller"] == "no"
    assert answer["dynamic_variables"]["caller_id"] == ""
    assert "user_id" not in answer
    # Nobody named, so nothing is read or archived under anybody
    assert list(deps.archive.keys("client-data/")) == []
    assert "UnattributedCall" in counted


def test_a_sip_call_id_is_encoded_into_the_archive_key_and_the_call_starts(deps, keys):
    request = {"agent_id": AGENT, "caller_id": ANN, "call_sid": "7f3a9c@192.0.2.17"}

    response = initiate_conversation(keys, request)

    assert response["statusCode"] == 200
    [received, sent] = sorted(deps.archive.keys("client-data/"))
    assert received.startswith(f"client-data/{ANN}/")
    assert received.endswith("_enc_7f3a9c_40192_2E0_2E2_2E17/received.json")
    assert sent.endswith("_enc_7f3a9c_40192_2E0_2E2_2E17/response.json")


def test_an_oauth_subject_user_id_is_a_caller_found_again_by_the_tool(deps, keys):
    # Given a web conversation whose user_id is an OAuth subject
    subject = "google-oauth2|104837561234567890123"
    event = load_fixture("transcription_web")
    event["data"]["user_id"] = subject
    deliver_and_process(deps, keys, event)

    # Then it is filed and remembered under a safe, reversible key
    key = "enc_google-oauth2_7C104837561234567890123"
    conversation_id = event["data"]["conversation_id"]
    assert list(deps.archive.keys("post-call/")) == [f"post-call/{key}/{conversation_id}.json"]
    assert deps.memory.list_all(key)
    # And the tool given the same subject, or the key echoed back, searches the same memories
    query = "opening hours on Saturday"
    assert response_json(search(subject, query))["memories"]
    assert response_json(search(key, query))["memories"] == response_json(search(subject, query))["memories"]


def test_every_signed_event_type_is_answered_200_archived_and_counted(deps, keys, monkeypatch):
    counted = recorded_metrics(monkeypatch, post_call_handler)
    notice = {
        "type": "voice_removal_notice",
        "event_timestamp": 1763565355,
        "data": {"agent_id": AGENT, "conversation_id": "conv_removed_1", "voice_id": "v1"},
    }

    assert deliver(deps, keys, notice)["statusCode"] == 200

    key = "post-call/other/voice_removal_notice/conv_removed_1.json"
    assert list(deps.archive.keys("post-call/")) == [key]
    assert json.loads(deps.archive.get(key)) == notice
    assert counted == ["EventArchived", "UnprocessedEventType"]
    assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}


def test_an_unsigned_event_is_refused_and_counted(deps, keys, monkeypatch):
    counted = recorded_metrics(monkeypatch, post_call_handler)
    body = json.dumps(transcription("conv_unsigned")).encode()

    response = post_call_handler.lambda_handler(
        api_event("POST", "/post-call", body, {"Content-Type": "application/json"}), lambda_context()
    )

    assert response["statusCode"] == 401
    assert counted == ["EventRefused"]
    assert list(deps.archive.keys("")) == []


def custom_dialer_call(conversation_id: str) -> dict[str, Any]:
    # A web/SDK conversation started by a custom dialer that names the caller only in its own variable.
    event = transcription(conversation_id, user_id=None)
    event["data"]["metadata"].pop("phone_call", None)
    event["data"]["conversation_initiation_client_data"] = {
        "dynamic_variables": {"dialer_customer_phone": "07700 900123", "system__caller_id": None}
    }
    return event


def test_a_call_naming_nobody_is_archived_unattributed_answered_200_and_counted(deps, keys, monkeypatch):
    counted = recorded_metrics(monkeypatch, post_call_handler)

    deliver_and_process(deps, keys, custom_dialer_call("conv_dialer_1"))

    assert list(deps.archive.keys("post-call/")) == ["post-call/unattributed/conv_dialer_1.json"]
    assert "UnattributedEvent" in counted
    assert deps.memory.list_all(ANN) == []


def test_caller_id_variables_names_the_custom_dialers_variable(deps, keys, tmp_path):
    settings = uk_settings(keys, tmp_path, CALLER_ID_VARIABLES="crm_id, dialer_customer_phone")
    use_dependencies(Dependencies(settings=settings, memory=deps.memory, archive=deps.archive))

    deliver_and_process(deps, keys, custom_dialer_call("conv_dialer_2"))

    assert list(deps.archive.keys("post-call/")) == [f"post-call/{ANN}/conv_dialer_2.json"]
    assert deps.memory.list_all(ANN)


def test_replay_attributes_an_unattributed_call_once_configuration_names_its_caller(deps, keys, tmp_path):
    # Given a custom dialer's call archived unattributed before CALLER_ID_VARIABLES was set
    deliver_and_process(deps, keys, custom_dialer_call("conv_dialer_3"))
    assert list(deps.archive.keys("post-call/")) == ["post-call/unattributed/conv_dialer_3.json"]
    body = deps.archive.get("post-call/unattributed/conv_dialer_3.json")

    # When the operator sets it and replays
    configured = uk_settings(keys, tmp_path, CALLER_ID_VARIABLES="dialer_customer_phone")
    report = replay(["post-call/unattributed/conv_dialer_3.json"], configured, deps.archive, deps.memory)

    # Then the event is moved to Ann's key, byte for byte, and becomes her memories
    assert report.failed == {}
    assert [result.key for result in report.processed] == [f"post-call/{ANN}/conv_dialer_3.json"]
    assert list(deps.archive.keys("post-call/")) == [f"post-call/{ANN}/conv_dialer_3.json"]
    assert deps.archive.get(f"post-call/{ANN}/conv_dialer_3.json") == body
    assert report.processed[0].memories_added > 0
    assert deps.memory.list_all(ANN)


def test_replay_leaves_a_still_unattributed_call_where_it_is(deps, keys):
    deliver_and_process(deps, keys, custom_dialer_call("conv_dialer_4"))

    report = replay(["post-call/unattributed/conv_dialer_4.json"], deps.settings, deps.archive, deps.memory)

    assert [result.skipped for result in report.processed] == ["unattributed"]
    assert list(deps.archive.keys("post-call/")) == ["post-call/unattributed/conv_dialer_4.json"]


# ---- item 5: outbound calls without hand configuration ----


def outbound_call(conversation_id: str, agent_id: str) -> dict[str, Any]:
    event = transcription(conversation_id, agent_id=agent_id)
    return with_phone_call(
        event, direction="outbound", agent_number="020 7946 0018", external_number="07700 900123"
    )


def test_an_outbound_initiation_resolves_once_the_agent_has_made_one_call(deps, keys):
    # Given no AGENT_PHONE_NUMBERS, and an outbound call the agent made to Ann
    assert deps.settings.agent_numbers == frozenset()
    deliver_and_process(deps, keys, outbound_call("conv_out_1", "agent_learns_1"))

    # Then the agent's own number is learned into the archive
    assert json.loads(deps.archive.get("agents/agent_learns_1/numbers.json")) == {
        "agent_id": "agent_learns_1",
        "numbers": [AGENT_LINE],
    }
    # And the next outbound pre-call from that number is about the person called
    request = {"agent_id": "agent_learns_1", "caller_id": AGENT_LINE, "called_number": ANN, "call_sid": "CA2"}
    answer = response_json(initiate_conversation(keys, request))
    assert answer["dynamic_variables"]["caller_id"] == ANN
    assert answer["dynamic_variables"]["returning_caller"] == "yes"
    assert answer["user_id"] == ANN
    # And nothing is remembered under the agent's own number
    assert deps.memory.list_all(AGENT_LINE) == []


def test_an_inbound_call_teaches_the_number_too_and_another_agent_learns_nothing(deps, keys):
    event = with_phone_call(
        transcription("conv_in_1", agent_id="agent_learns_2"),
        direction="inbound",
        agent_number=AGENT_LINE,
        external_number=ANN,
    )
    deliver_and_process(deps, keys, event)

    assert agent_numbers.read_numbers(deps.archive, "agent_learns_2") == frozenset({AGENT_LINE})
    assert agent_numbers.read_numbers(deps.archive, "agent_other") == frozenset()
    # A pre-call to another agent from that number is still inbound: it is that agent's caller
    request = {"agent_id": "agent_other", "caller_id": AGENT_LINE, "called_number": ANN}
    assert response_json(initiate_conversation(keys, request))["dynamic_variables"]["caller_id"] == AGENT_LINE


def test_the_user_id_is_the_resolved_caller_key_in_the_initiation_answer(deps, keys):
    answer = response_json(initiate_conversation(keys, {"agent_id": AGENT, "caller_id": "07700 900123"}))

    assert answer["user_id"] == ANN


class CountingArchive(InMemoryArchive):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, key: str) -> bytes:
        self.reads += 1
        return super().get(key)


def test_the_learned_numbers_are_read_once_per_execution_environment_for_a_while():
    archive = CountingArchive()
    archive.put(
        "agents/agent_cached/numbers.json",
        json.dumps({"agent_id": "agent_cached", "numbers": [AGENT_LINE]}).encode(),
        "application/json",
    )

    first = agent_numbers.known_agent_numbers(archive, "agent_cached", {"+15550100001"}, 1.0)
    second = agent_numbers.known_agent_numbers(archive, "agent_cached", (), 1.0)

    assert first == frozenset({AGENT_LINE, "+15550100001"})
    assert second == frozenset({AGENT_LINE})
    assert archive.reads == 1


def test_a_learned_number_reaches_a_cached_initiation_in_the_same_process_at_once():
    archive, memory = InMemoryArchive(), InMemoryMemoryStore()
    assert agent_numbers.known_agent_numbers(archive, "agent_fresh", (), 1.0) == frozenset()

    data = outbound_call("conv_out_2", "agent_fresh")["data"]
    assert agent_numbers.learn_agent_number(archive, TranscriptionData.model_validate(data), "44")
    assert agent_numbers.known_agent_numbers(archive, "agent_fresh", (), 1.0) == frozenset({AGENT_LINE})
    assert memory.list_all(ANN) == []


@pytest.mark.parametrize(
    ("direction", "variables", "expected"),
    [
        ("outbound", {"system__caller_id": "020 7946 0018", "system__called_number": ANN}, AGENT_LINE),
        ("inbound", {"system__caller_id": ANN, "system__called_number": "+44 20 7946 0018"}, AGENT_LINE),
        (None, {"system__caller_id": ANN}, None),
    ],
)
def test_without_agent_number_the_direction_says_which_system_variable_is_the_agent(
    direction, variables, expected
):
    data = TranscriptionData.model_validate(
        {
            "agent_id": "a",
            "conversation_id": "c",
            "metadata": {"phone_call": {"direction": direction, "external_number": ANN}},
            "conversation_initiation_client_data": {"dynamic_variables": variables},
        }
    )

    assert agent_numbers.agent_number_of(data, "44") == expected
