"""The deployed functions' wiring builds only deployed adapters, and only the ones each function uses.

Given a function's environment in Lambda, When its dependencies are built, Then the post-call
acknowledgement gets an archive and no memory, retrieve a memory and no archive, and a backend the
deployed wiring cannot build is refused with the setting to fix, never replaced by a local one.
"""

import json

import pytest
from helpers import api_event, lambda_context

from agentic_memory import wiring
from agentic_memory.adapters.mem0_platform import Mem0PlatformStore
from agentic_memory.adapters.s3_archive import S3Archive
from agentic_memory.settings import ConfigurationError, Settings

LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "agentic-memory-dev-fn", "AWS_DEFAULT_REGION": "us-east-1"}
ARCHIVE = {"ARCHIVE_BACKEND": "s3", "S3_BUCKET_NAME": "agentic-memory-dev-archive"}
MEMORY = {"MEMORY_BACKEND": "mem0-platform", "MEM0_API_KEY": "m0-test-key"}


@pytest.fixture(autouse=True)
def nothing_installed(monkeypatch: pytest.MonkeyPatch):
    wiring.use_dependencies(None)
    yield
    wiring.use_dependencies(None)


def lambda_environment(monkeypatch: pytest.MonkeyPatch, *parts: dict[str, str]) -> None:
    for name in (
        "MEM0_API_KEY",
        "S3_BUCKET_NAME",
        "MEMORY_BACKEND",
        "ARCHIVE_BACKEND",
        "AGENTIC_MEMORY_HOME",
    ):
        monkeypatch.delenv(name, raising=False)
    for part in (LAMBDA, *parts):
        for name, value in part.items():
            monkeypatch.setenv(name, value)


def test_post_call_builds_an_s3_archive_and_no_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    lambda_environment(monkeypatch, ARCHIVE, {"ELEVENLABS_HMAC_KEY": "whsec_test"})

    deps = wiring.post_call_dependencies()

    assert isinstance(deps.archive, S3Archive)
    assert not hasattr(deps, "memory")


def test_search_memory_builds_mem0_platform_and_the_archive_of_its_recall_index(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lambda_environment(monkeypatch, MEMORY, ARCHIVE)

    deps = wiring.search_memory_dependencies()

    assert isinstance(deps.memory, Mem0PlatformStore)
    assert isinstance(deps.archive, S3Archive)


def test_processor_and_conversation_initiation_build_both(monkeypatch: pytest.MonkeyPatch) -> None:
    lambda_environment(monkeypatch, MEMORY, ARCHIVE, {"ELEVENLABS_WORKSPACE_KEY": "wsk_test"})

    processor, conversation_initiation = (
        wiring.processor_dependencies(),
        wiring.conversation_initiation_dependencies(),
    )

    assert isinstance(processor.archive, S3Archive) and isinstance(processor.memory, Mem0PlatformStore)
    assert processor.audio_source is None  # no ELEVENLABS_API_KEY
    # The pre-call reads the caller brief from the archive: it builds no Mem0 client at all
    assert isinstance(conversation_initiation.archive, S3Archive) and not hasattr(
        conversation_initiation, "memory"
    )


def test_dependencies_are_built_once_per_execution_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    lambda_environment(monkeypatch, MEMORY, ARCHIVE)

    assert wiring.search_memory_dependencies() is wiring.search_memory_dependencies()


def test_post_call_without_a_backend_is_refused_not_sent_to_a_local_archive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lambda_environment(monkeypatch, {"ELEVENLABS_HMAC_KEY": "whsec_test"})

    with pytest.raises(ConfigurationError, match="ARCHIVE_BACKEND"):
        wiring.post_call_dependencies()


def test_the_deployed_wiring_refuses_local_backends_even_outside_lambda(tmp_path) -> None:
    settings = Settings.from_environment({"AGENTIC_MEMORY_HOME": str(tmp_path)})

    with pytest.raises(ConfigurationError, match="MEMORY_BACKEND=embedded"):
        wiring.memory_store_for(settings)
    with pytest.raises(ConfigurationError, match="ARCHIVE_BACKEND=filesystem"):
        wiring.archive_for(settings)


def test_a_misconfigured_function_answers_a_json_500_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.post_call.handler import lambda_handler

    lambda_environment(monkeypatch, {"ELEVENLABS_HMAC_KEY": "whsec_test"})

    response = lambda_handler(api_event("POST", "/post-call", b"{}"), lambda_context())

    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {
        "error": "misconfigured",
        "detail": "settings: ARCHIVE_BACKEND is not set (the stack sets ARCHIVE_BACKEND=s3)",
    }


def test_in_lambda_the_init_phase_builds_and_prepares_the_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the search_memory function's environment in Lambda
    lambda_environment(monkeypatch, MEMORY, ARCHIVE)

    # When its module's init-phase preparation runs
    wiring.prepare_in_lambda_init(wiring.search_memory_dependencies)

    # Then the dependencies already exist for the first caller, and the HTTP stack is loaded
    built = wiring._built["search_memory"]
    assert isinstance(built.memory, Mem0PlatformStore)  # type: ignore[attr-defined]


def test_outside_lambda_the_init_phase_builds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)

    wiring.prepare_in_lambda_init(wiring.search_memory_dependencies)

    assert "search_memory" not in wiring._built


def test_a_configuration_error_at_init_is_left_for_the_first_invocation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given post-call in Lambda without its archive backend
    lambda_environment(monkeypatch, {"ELEVENLABS_HMAC_KEY": "whsec_test"})

    # When its init-phase preparation runs, then it does not crash the init
    wiring.prepare_in_lambda_init(wiring.post_call_dependencies)

    # And the first invocation still says what to fix
    with pytest.raises(ConfigurationError, match="ARCHIVE_BACKEND"):
        wiring.post_call_dependencies()
