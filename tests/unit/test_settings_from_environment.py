"""The environment as a model: names kept from the original system, rotation lists, safe defaults."""

import secrets
from pathlib import Path

import pytest
from pydantic import ValidationError

from agentic_memory.settings import (
    DEFAULT_RETURNING_GREETING,
    DEFAULT_WELCOME,
    ArchiveBackend,
    ConfigurationError,
    MemoryBackend,
    Settings,
)


def key() -> str:
    return "k_" + secrets.token_hex(8)


def test_an_empty_environment_gives_the_documented_defaults() -> None:
    settings = Settings.from_environment({})

    assert settings.workspace_keys == () and settings.hmac_keys == () and settings.tool_keys == ()
    assert settings.mem0_api_key is None
    assert settings.mem0_base_url == "https://api.mem0.ai"
    # The answer is sized by characters; no count unless MEM0_SEARCH_LIMIT sets one
    assert settings.mem0_search_limit is None and settings.search_answer_max_chars == 2_800
    assert settings.s3_bucket_name is None
    assert settings.home == Path(".agentic-memory")
    assert settings.agent_numbers == frozenset()
    assert settings.welcome_message == DEFAULT_WELCOME
    assert settings.returning_greeting == DEFAULT_RETURNING_GREETING
    assert settings.signature_tolerance_seconds == 30 * 60
    # Outside Lambda an unconfigured machine gets the local runtime's backends.
    assert settings.memory_backend is MemoryBackend.EMBEDDED
    assert settings.archive_backend is ArchiveBackend.FILESYSTEM


@pytest.mark.parametrize(
    ("variable", "field"),
    [
        ("ELEVENLABS_WORKSPACE_KEY", "workspace_keys"),
        ("ELEVENLABS_HMAC_KEY", "hmac_keys"),
        ("ELEVENLABS_TOOL_KEY", "tool_keys"),
    ],
)
def test_secrets_are_comma_separated_lists_for_rotation(variable: str, field: str) -> None:
    old, new = key(), key()

    settings = Settings.from_environment({variable: f" {new} ,, {old},"})

    assert Settings.reveal(getattr(settings, field)) == [new, old]


def test_secret_values_never_appear_in_the_settings_repr() -> None:
    hmac_key, mem0_key = key(), key()

    settings = Settings.from_environment({"ELEVENLABS_HMAC_KEY": hmac_key, "MEM0_API_KEY": mem0_key})

    assert hmac_key not in repr(settings) and mem0_key not in repr(settings)
    assert settings.mem0_api_key is not None and settings.mem0_api_key.get_secret_value() == mem0_key


def test_empty_values_count_as_unset() -> None:
    settings = Settings.from_environment(
        {"MEM0_API_KEY": "", "S3_BUCKET_NAME": "", "MEM0_SEARCH_LIMIT": "", "MEMORY_BACKEND": ""}
    )

    assert settings.mem0_api_key is None and settings.s3_bucket_name is None
    assert settings.mem0_search_limit is None and settings.memory_backend is MemoryBackend.EMBEDDED


def test_documented_names_set_their_fields() -> None:
    settings = Settings.from_environment(
        {
            "MEM0_BASE_URL": "http://127.0.0.1:9000",
            "MEM0_SEARCH_LIMIT": "5",
            "MEM0_TIMEOUT": "1.5",
            "S3_BUCKET_NAME": "agentic-memory-dev-archive",
            "AGENTIC_MEMORY_HOME": "/tmp/agentic-memory-test",
        }
    )

    assert settings.mem0_base_url == "http://127.0.0.1:9000"
    assert settings.mem0_search_limit == 5 and settings.mem0_timeout == 1.5
    assert settings.s3_bucket_name == "agentic-memory-dev-archive"
    assert settings.archive_backend is ArchiveBackend.S3
    assert settings.home == Path("/tmp/agentic-memory-test")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MEM0_SEARCH_LIMIT", "0"),
        ("MEM0_SEARCH_LIMIT", "three"),
        ("MEM0_TIMEOUT", "-1"),
        ("SIGNATURE_TOLERANCE_SECONDS", "1"),
    ],
)
def test_invalid_values_are_refused_at_start_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        Settings.from_environment({variable: value})


def test_a_returning_greeting_without_a_name_slot_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"RETURNING_GREETING.*\{name\}"):
        Settings.from_environment({"RETURNING_GREETING": "Welcome back!"})


def test_a_returning_greeting_with_a_name_slot_is_kept() -> None:
    settings = Settings.from_environment({"RETURNING_GREETING": "Good to hear from you, {name}."})

    assert settings.returning_greeting == "Good to hear from you, {name}."


def test_agent_numbers_are_normalised_and_garbage_dropped() -> None:
    settings = Settings.from_environment(
        {"AGENT_PHONE_NUMBERS": "+1 (555) 010-0001, 5550100002, not-a-number"}
    )

    assert settings.agent_numbers == frozenset({"+15550100001", "+15550100002"})


def test_agent_numbers_use_the_configured_default_country_code() -> None:
    settings = Settings.from_environment({"DEFAULT_COUNTRY_CODE": "44", "AGENT_PHONE_NUMBERS": "2079460958"})

    assert settings.agent_numbers == frozenset({"+442079460958"})


def test_settings_are_frozen() -> None:
    settings = Settings.from_environment({})

    with pytest.raises(ValidationError):
        settings.mem0_search_limit = 5  # type: ignore[misc]
