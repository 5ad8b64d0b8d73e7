"""The pre-call key arrives in the header the workspace named (``WORKSPACE_KEY_HEADER``)."""

import pytest
from helpers import api_event, lambda_context, response_json

from agentic_memory.errors import ConfigurationError
from agentic_memory.settings import ConversationInitiationSettings, Settings
from agentic_memory.wiring import Dependencies, use_dependencies
from devtools.fixtures import fixture_bytes
from local_runtime.sender import build_request
from services.conversation_initiation.handler import lambda_handler as conversation_initiation


def initiation_with(headers: dict[str, str]) -> dict:
    body = fixture_bytes("precall_twilio_inbound")
    event = api_event("POST", "/client-data", body, {"Content-Type": "application/json", **headers})
    return conversation_initiation(event, lambda_context("client-data"))


def test_the_default_header_is_x_workspace_key() -> None:
    assert ConversationInitiationSettings.from_environment({}).workspace_key_header == "X-Workspace-Key"


def test_a_named_header_carries_the_key_and_the_default_one_no_longer_does(deps, keys, tmp_path) -> None:
    # Given a workspace that sends its key as "Authorization-Token"
    settings = Settings.from_environment(
        {
            "ELEVENLABS_WORKSPACE_KEY": keys["workspace"],
            "WORKSPACE_KEY_HEADER": "Authorization-Token",
            "AGENTIC_MEMORY_HOME": str(tmp_path / "home"),
        }
    )
    use_dependencies(Dependencies(settings=settings, memory=deps.memory, archive=deps.archive))

    # When the pre-call arrives with the key in that header, in any letter case
    answered = initiation_with({"authorization-token": keys["workspace"]})
    refused = initiation_with({"X-Workspace-Key": keys["workspace"]})

    # Then it is answered, and the key in the old header is refused naming the configured header
    assert answered["statusCode"] == 200
    assert refused["statusCode"] == 401
    assert response_json(refused)["detail"] == "missing Authorization-Token header"


@pytest.mark.parametrize("bad", ["X Workspace Key", "X-Key:", "Ключ"])
def test_a_header_name_that_is_no_http_token_is_a_configuration_error(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="WORKSPACE_KEY_HEADER"):
        ConversationInitiationSettings.from_environment({"WORKSPACE_KEY_HEADER": bad})


def test_the_cli_sender_uses_the_configured_header() -> None:
    keys = {"workspace": "wsk_1", "workspace_header": "Authorization-Token"}
    request = build_request({"caller_id": "+15550100123"}, "client-data", "http://127.0.0.1:1", keys)

    assert request.get_header("Authorization-token") == "wsk_1"
    assert request.get_header("X-workspace-key") is None
