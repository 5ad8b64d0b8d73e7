"""One settings model per function; inside Lambda backends are explicit and never local.

Given the environment a function gets, When its settings are read, Then it holds what it uses and
nothing else, and a missing or local-only backend is a start-up error that names the setting.
"""

import secrets

import pytest

from agentic_memory.settings import (
    ArchiveBackend,
    ConfigurationError,
    ConversationInitiationSettings,
    EmbeddedLlmSettings,
    MemoryBackend,
    PostCallSettings,
    ProcessorSettings,
    SearchMemorySettings,
    Settings,
    environment_names,
)

IN_LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "agentic-memory-prod-post-call"}
DEPLOYED_MEMORY = {"MEMORY_BACKEND": "mem0-platform", "MEM0_API_KEY": "m0-" + secrets.token_hex(8)}
DEPLOYED_ARCHIVE = {"ARCHIVE_BACKEND": "s3", "S3_BUCKET_NAME": "agentic-memory-prod-archive"}


def test_each_function_reads_only_the_settings_it_uses() -> None:
    post_call = environment_names(PostCallSettings)
    search_memory = environment_names(SearchMemorySettings)

    assert "ELEVENLABS_HMAC_KEY" in post_call and "S3_BUCKET_NAME" in post_call
    assert not {"MEM0_API_KEY", "MEMORY_BACKEND", "ELEVENLABS_WORKSPACE_KEY"} & post_call
    assert "MEM0_API_KEY" in search_memory and "ELEVENLABS_TOOL_KEY" in search_memory
    # The search tool reads the caller's recall index from the archive, never the webhook's secret
    assert {
        "S3_BUCKET_NAME",
        "ARCHIVE_BACKEND",
    } <= search_memory and "ELEVENLABS_HMAC_KEY" not in search_memory
    assert "ELEVENLABS_API_KEY" in environment_names(ProcessorSettings)
    assert "ELEVENLABS_WORKSPACE_KEY" in environment_names(ConversationInitiationSettings)
    # The local runtime's model is the union of the four and the embedded engine's LLM (local only).
    union = set().union(*(environment_names(m) for m in (PostCallSettings, SearchMemorySettings,
                                                         ProcessorSettings, ConversationInitiationSettings,
                                                         EmbeddedLlmSettings)))  # fmt: skip
    assert environment_names(Settings) == union


def test_post_call_in_lambda_starts_with_only_its_archive_and_secrets() -> None:
    hmac_key = "whsec_" + secrets.token_hex(8)

    settings = PostCallSettings.from_environment(
        {**IN_LAMBDA, **DEPLOYED_ARCHIVE, "ELEVENLABS_HMAC_KEY": hmac_key}
    )

    assert settings.archive_backend is ArchiveBackend.S3
    assert settings.reveal(settings.hmac_keys) == [hmac_key]


@pytest.mark.parametrize(
    ("model", "environment", "named"),
    [
        (PostCallSettings, {}, "ARCHIVE_BACKEND"),
        (PostCallSettings, {"S3_BUCKET_NAME": "bucket"}, "ARCHIVE_BACKEND"),
        (PostCallSettings, {"ARCHIVE_BACKEND": "s3"}, "S3_BUCKET_NAME"),
        (PostCallSettings, {"ARCHIVE_BACKEND": "filesystem"}, "ARCHIVE_BACKEND=filesystem"),
        (SearchMemorySettings, {**DEPLOYED_ARCHIVE}, "MEMORY_BACKEND"),
        (SearchMemorySettings, {**DEPLOYED_ARCHIVE, "MEM0_API_KEY": "m0-key"}, "MEMORY_BACKEND"),
        (SearchMemorySettings, {**DEPLOYED_ARCHIVE, "MEMORY_BACKEND": "embedded"}, "MEMORY_BACKEND=embedded"),
        (SearchMemorySettings, {**DEPLOYED_ARCHIVE, "MEMORY_BACKEND": "mem0-platform"}, "MEM0_API_KEY"),
        (SearchMemorySettings, {**DEPLOYED_MEMORY}, "ARCHIVE_BACKEND"),
        (ProcessorSettings, {**DEPLOYED_ARCHIVE, "MEMORY_BACKEND": "mem0-platform"}, "MEM0_API_KEY"),
        (ConversationInitiationSettings, {**DEPLOYED_MEMORY}, "ARCHIVE_BACKEND"),
        (SearchMemorySettings, {"MEMORY_BACKEND": "pinecone"}, "MEMORY_BACKEND"),
        (PostCallSettings, {**DEPLOYED_ARCHIVE}, "ELEVENLABS_HMAC_KEY"),
        (PostCallSettings, {**DEPLOYED_ARCHIVE, "ELEVENLABS_HMAC_KEY": " , "}, "ELEVENLABS_HMAC_KEY"),
        (ConversationInitiationSettings, {**DEPLOYED_MEMORY, **DEPLOYED_ARCHIVE}, "ELEVENLABS_WORKSPACE_KEY"),
        (PostCallSettings, {"ARCHIVE_BACKEND": "s3", "S3_BUCKET_NAME": "   "}, "S3_BUCKET_NAME"),
        (
            SearchMemorySettings,
            {**DEPLOYED_ARCHIVE, "MEMORY_BACKEND": "mem0-platform", "MEM0_API_KEY": " \n"},
            "MEM0_API_KEY",
        ),
        (SearchMemorySettings, {**DEPLOYED_MEMORY, "MEM0_BASE_URL": "notaurl"}, "MEM0_BASE_URL"),
    ],
)
def test_in_lambda_a_missing_or_local_backend_is_a_start_up_error_naming_the_setting(
    model: type[PostCallSettings], environment: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        model.from_environment({**IN_LAMBDA, **environment})


def test_outside_lambda_the_backends_follow_the_other_settings() -> None:
    settings = Settings.from_environment({**DEPLOYED_MEMORY, "S3_BUCKET_NAME": "bucket"})

    assert settings.memory_backend is MemoryBackend.MEM0_PLATFORM
    assert settings.archive_backend is ArchiveBackend.S3


def test_an_explicit_backend_wins_over_what_the_other_settings_suggest() -> None:
    settings = Settings.from_environment(
        {
            "MEM0_API_KEY": "m0-key",
            "MEMORY_BACKEND": "embedded",
            "S3_BUCKET_NAME": "b",
            "ARCHIVE_BACKEND": "filesystem",
        }  # fmt: skip
    )

    assert settings.memory_backend is MemoryBackend.EMBEDDED
    assert settings.archive_backend is ArchiveBackend.FILESYSTEM


def test_settings_nothing_reads_are_gone() -> None:
    # LOG_LEVEL is Powertools' own (its Logger reads it); Mem0 2.x resolves org and project from the key.
    assert not {"LOG_LEVEL", "MEM0_ORG_ID", "MEM0_PROJECT_ID"} & environment_names(Settings)
