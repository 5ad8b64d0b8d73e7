"""The environment as models: one per function, each field declared once, parsed by pydantic-settings.

Every setting lives in exactly one group below (field, environment name, default). A function's model
is the union of the groups it uses, so a function is never configured with, or fails on, a setting it
does not read. ``Settings`` is the union of all of them: the local runtime and the operator commands,
which serve every function in one process.

Names come from the original system and must stay stable (docs/architecture.md, names kept). Secrets may
hold several comma-separated values so that keys can be rotated without downtime. Values are read from
an explicit mapping (``from_environment``), which in AWS is ``os.environ`` with the SSM secrets filled
in.

Backends are explicit: ``MEMORY_BACKEND`` (``mem0-platform`` | ``embedded``) and ``ARCHIVE_BACKEND``
(``s3`` | ``filesystem``). Outside Lambda they may be left out and follow from the other settings
(``MEM0_API_KEY`` → Mem0 Platform, ``S3_BUCKET_NAME`` → S3), so ``make run`` works unconfigured.
Inside Lambda (``AWS_LAMBDA_FUNCTION_NAME`` is set) a missing backend, a local-only backend or a
backend without its setting is a ``ConfigurationError`` that names the setting: never a silent switch
to local adapters.
"""

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources import NoDecode
from pydantic_settings.sources.utils import parse_env_vars

from .caller_profile import language_code

# Re-exported: whoever reads settings catches it from here.
from .errors import ConfigurationError as ConfigurationError
from .identity import normalise_phone_number
from .redaction import ALL_KINDS, SensitiveKind, parse_kinds
from .scope import MemoryScope

DEFAULT_WELCOME = "Hello! Thanks for calling. Who do I have the pleasure of speaking with today?"
DEFAULT_RETURNING_GREETING = "Welcome back, {name}! It's good to hear from you again."
DEFAULT_RETURNING_GREETING_NO_NAME = "Welcome back! It's good to hear from you again."
# The language WELCOME_MESSAGE, RETURNING_GREETING and the outbound greetings are written in.
DEFAULT_GREETING_LANGUAGE = "en"
# Lambda sets this in every execution environment (AWS docs, "Defined runtime environment variables").
LAMBDA_MARKER = "AWS_LAMBDA_FUNCTION_NAME"
# An HTTP field name is an RFC 9110 token.
HTTP_HEADER_NAME = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$"


class MemoryBackend(StrEnum):
    MEM0_PLATFORM = "mem0-platform"
    EMBEDDED = "embedded"  # Mem0's open-source engine in the process: the local runtime only


class ArchiveBackend(StrEnum):
    S3 = "s3"
    FILESYSTEM = "filesystem"  # a folder under AGENTIC_MEMORY_HOME: the local runtime only


LOCAL_ONLY_BACKENDS = frozenset({MemoryBackend.EMBEDDED, ArchiveBackend.FILESYSTEM})

# Comma-separated values arrive as one string: pydantic-settings must not try to JSON-decode them.
CommaSeparatedSecrets = Annotated[tuple[SecretStr, ...], NoDecode]

_environment: ContextVar[Mapping[str, str] | None] = ContextVar("settings_environment", default=None)


def _split(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' own environment source, reading a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # A value of only spaces (or a secret pasted with its newline) counts as what it means: unset.
        stripped = {name: value.strip() for name, value in self._environ.items() if isinstance(value, str)}
        return parse_env_vars(stripped, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


class _EnvironmentModel(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True, case_sensitive=True, env_ignore_empty=True, extra="ignore", populate_by_name=True
    )

    lambda_function_name: str | None = Field(default=None, validation_alias=LAMBDA_MARKER)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = _environment.get()
        return (init_settings, env_settings if environ is None else _MappingSource(settings_cls, environ))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Self:
        """The settings ``environ`` gives. Raises ``ConfigurationError`` naming what is wrong."""
        with _reading(environ):
            try:
                return cls()
            except ValidationError as error:
                raise ConfigurationError(_describe(error)) from None

    @property
    def in_lambda(self) -> bool:
        return self.lambda_function_name is not None

    @staticmethod
    def reveal(keys: tuple[SecretStr, ...]) -> list[str]:
        return [key.get_secret_value() for key in keys]


@contextmanager
def _reading(environ: Mapping[str, str]) -> Iterator[None]:
    token = _environment.set(environ)
    try:
        yield
    finally:
        _environment.reset(token)


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "settings"
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(f"{name}: {message}")
    return "; ".join(problems)


# ---- the groups: each setting is declared in exactly one of them ----


class IdentitySettings(_EnvironmentModel):
    # Country calling code ("1", "44") whose numbering plan reads national numbers (trunk prefix or not).
    default_country_code: str = Field(default="1", validation_alias="DEFAULT_COUNTRY_CODE")
    # Dynamic variables that may name the caller when nothing else does (a custom dialer's own
    # variable), looked in last and in this order: comma-separated names, e.g. "customer_phone".
    caller_id_variables: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias="CALLER_ID_VARIABLES"
    )

    _split_caller_id_variables = field_validator("caller_id_variables", mode="before")(_split)


class LocalDataSettings(_EnvironmentModel):
    # The local runtime's data: archive folder, embedded memory, dead-letter folder, dev keys.
    home: Path = Field(default=Path(".agentic-memory"), validation_alias="AGENTIC_MEMORY_HOME")


class ArchiveSettings(LocalDataSettings):
    archive_backend: ArchiveBackend | None = Field(default=None, validation_alias="ARCHIVE_BACKEND")
    s3_bucket_name: str | None = Field(default=None, validation_alias="S3_BUCKET_NAME")

    @model_validator(mode="after")
    def _archive_backend_is_usable(self) -> Self:
        inferred = ArchiveBackend.S3 if self.s3_bucket_name else ArchiveBackend.FILESYSTEM
        backend = _choose_backend(self, "archive_backend", "ARCHIVE_BACKEND", inferred, ArchiveBackend.S3)
        if backend is ArchiveBackend.S3 and not self.s3_bucket_name:
            raise ValueError("ARCHIVE_BACKEND=s3 needs S3_BUCKET_NAME")
        return self


class MemorySettings(LocalDataSettings):
    memory_backend: MemoryBackend | None = Field(default=None, validation_alias="MEMORY_BACKEND")
    mem0_api_key: SecretStr | None = Field(default=None, validation_alias="MEM0_API_KEY")
    mem0_base_url: str = Field(
        default="https://api.mem0.ai",
        pattern=r"^https?://[^/\s:]+(:\d+)?(/\S*)?$",
        validation_alias="MEM0_BASE_URL",
    )
    # The search_memory budget is 300 ms at p95: a search slower than this answers empty rather than late.
    mem0_timeout: float = Field(default=0.28, gt=0, le=30, validation_alias="MEM0_TIMEOUT")

    @model_validator(mode="after")
    def _memory_backend_is_usable(self) -> Self:
        inferred = MemoryBackend.MEM0_PLATFORM if self.mem0_api_key else MemoryBackend.EMBEDDED
        deployed = MemoryBackend.MEM0_PLATFORM
        backend = _choose_backend(self, "memory_backend", "MEMORY_BACKEND", inferred, deployed)
        if backend is MemoryBackend.MEM0_PLATFORM and self.mem0_api_key is None:
            raise ValueError(
                "MEMORY_BACKEND=mem0-platform needs MEM0_API_KEY (in AWS: MEM0_API_KEY_PARAMETER, "
                "the name of the SSM parameter that holds it)"
            )
        return self


def _choose_backend(
    settings: _EnvironmentModel, field: str, name: str, inferred: StrEnum, deployed: StrEnum
) -> StrEnum:
    """The backend ``name`` names, or outside Lambda the one the other settings imply.

    Inside Lambda it must be named and must not be local-only: no silent switch to local adapters.
    """
    backend: StrEnum | None = getattr(settings, field)
    if backend is None and settings.in_lambda:
        raise ValueError(f"{name} is not set (the stack sets {name}={deployed})")
    if backend is None:
        backend = inferred
        object.__setattr__(settings, field, backend)
    if settings.in_lambda and backend in LOCAL_ONLY_BACKENDS:
        raise ValueError(f"{name}={backend} runs only in the local runtime, not in Lambda")
    return backend


def _require_in_lambda(settings: _EnvironmentModel, keys: tuple[SecretStr, ...], name: str) -> None:
    if settings.in_lambda and not keys:
        raise ValueError(f"{name} is not set (in AWS: {name}_PARAMETER, the SSM parameter that holds it)")


class SignatureSettings(_EnvironmentModel):
    hmac_keys: CommaSeparatedSecrets = Field(default=(), validation_alias="ELEVENLABS_HMAC_KEY")
    signature_tolerance_seconds: int = Field(
        default=30 * 60, ge=10, validation_alias="SIGNATURE_TOLERANCE_SECONDS"
    )

    _split_hmac_keys = field_validator("hmac_keys", mode="before")(_split)

    @model_validator(mode="after")
    def _hmac_keys_in_lambda(self) -> Self:
        # Without a secret every delivery would get a 401, which ElevenLabs never retries: refuse to start.
        _require_in_lambda(self, self.hmac_keys, "ELEVENLABS_HMAC_KEY")
        return self


class WorkspaceKeySettings(_EnvironmentModel):
    workspace_keys: CommaSeparatedSecrets = Field(default=(), validation_alias="ELEVENLABS_WORKSPACE_KEY")
    # The header the key arrives in: ElevenLabs lets the workspace name its pre-call webhook headers.
    workspace_key_header: str = Field(
        default="X-Workspace-Key", pattern=HTTP_HEADER_NAME, validation_alias="WORKSPACE_KEY_HEADER"
    )

    _split_workspace_keys = field_validator("workspace_keys", mode="before")(_split)

    @model_validator(mode="after")
    def _workspace_keys_in_lambda(self) -> Self:
        _require_in_lambda(self, self.workspace_keys, "ELEVENLABS_WORKSPACE_KEY")
        return self


class ToolSettings(_EnvironmentModel):
    # When set, the search_memory tool requires one of these in X-Tool-Key.
    tool_keys: CommaSeparatedSecrets = Field(default=(), validation_alias="ELEVENLABS_TOOL_KEY")
    # The answer is sized by characters; MEM0_SEARCH_LIMIT, the original system's count of memories,
    # still caps their number where a deployment sets it.
    mem0_search_limit: int | None = Field(default=None, ge=1, le=50, validation_alias="MEM0_SEARCH_LIMIT")
    search_answer_max_chars: int = Field(
        default=2_800, ge=300, le=20_000, validation_alias="SEARCH_ANSWER_MAX_CHARS"
    )
    # The memory store's semantic results are fused only if they arrive this long after the request.
    search_budget_seconds: float = Field(default=0.2, gt=0, le=30, validation_alias="SEARCH_BUDGET_SECONDS")

    _split_tool_keys = field_validator("tool_keys", mode="before")(_split)


class LanguageGreetings(BaseModel):
    """A returning caller's greetings in one language (GREETINGS_BY_LANGUAGE); a greeting left out is
    no first_message override: the agent's own first message in that language stands."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    returning: str | None = Field(default=None, min_length=1)  # contains {name}
    returning_without_name: str | None = Field(default=None, min_length=1)
    outbound_returning: str | None = Field(default=None, min_length=1)  # contains {name}

    @field_validator("returning", "outbound_returning")
    @classmethod
    def _has_name_slot(cls, value: str | None) -> str | None:
        if value is not None and "{name}" not in value:
            raise ValueError("a returning greeting must contain {name}")
        return value


class GreetingSettings(IdentitySettings):
    # The agent's own phone numbers: a pre-call whose caller_id is one of them is an outbound call.
    agent_numbers: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(), validation_alias="AGENT_PHONE_NUMBERS"
    )
    welcome_message: str = Field(default=DEFAULT_WELCOME, validation_alias="WELCOME_MESSAGE")
    returning_greeting: str = Field(default=DEFAULT_RETURNING_GREETING, validation_alias="RETURNING_GREETING")
    # Calls the agent places (AGENT_PHONE_NUMBERS): their own first messages, never "Thanks for
    # calling"; unset, an outbound call gets no first_message override (the agent's own stands).
    outbound_welcome_message: str | None = Field(default=None, validation_alias="OUTBOUND_WELCOME_MESSAGE")
    outbound_returning_greeting: str | None = Field(
        default=None, validation_alias="OUTBOUND_RETURNING_GREETING"
    )
    # The language the greetings above are in; a returning caller whose last call was in another
    # language gets that language's greeting (GREETINGS_BY_LANGUAGE, JSON:
    # {"es": {"returning": "¡Hola de nuevo, {name}!"}}) or no first_message override at all.
    greeting_language: str = Field(default=DEFAULT_GREETING_LANGUAGE, validation_alias="GREETING_LANGUAGE")
    greetings_by_language: Annotated[dict[str, LanguageGreetings], NoDecode] = Field(
        default_factory=dict, validation_alias="GREETINGS_BY_LANGUAGE"
    )
    # True only when the agent allows the language override (Security tab): a greeting in the
    # caller's language is then sent with `language`. ElevenLabs refuses overrides it does not allow.
    language_override: bool = Field(default=False, validation_alias="LANGUAGE_OVERRIDE")
    # The whole pre-call answer must leave within this; the memory read gets what remains.
    conversation_initiation_budget_seconds: float = Field(
        default=0.4, gt=0, le=5, validation_alias="PRECALL_BUDGET_SECONDS"
    )
    # Optional full system prompt override (docs/architecture.md, dynamic variables); {{variable}} slots
    # are filled in.
    prompt_override_template: str | None = Field(default=None, validation_alias="PROMPT_OVERRIDE_TEMPLATE")

    _split_agent_numbers = field_validator("agent_numbers", mode="before")(_split)

    @field_validator("returning_greeting")
    @classmethod
    def _greeting_has_name_slot(cls, value: str) -> str:
        if "{name}" not in value:
            raise ValueError("RETURNING_GREETING must contain {name}")
        return value

    @field_validator("outbound_returning_greeting")
    @classmethod
    def _outbound_greeting_has_name_slot(cls, value: str | None) -> str | None:
        if value is not None and "{name}" not in value:
            raise ValueError("OUTBOUND_RETURNING_GREETING must contain {name}")
        return value

    @field_validator("greeting_language")
    @classmethod
    def _greeting_language_is_a_code(cls, value: str) -> str:
        code = language_code(value)
        if code is None:
            raise ValueError(f"GREETING_LANGUAGE must be a language code such as en or pt-br, not {value!r}")
        return code

    @field_validator("greetings_by_language", mode="before")
    @classmethod
    def _greetings_are_json(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            example = '{"es": {"returning": "¡Hola, {name}!"}}'
            raise ValueError(f"GREETINGS_BY_LANGUAGE must be JSON, e.g. {example}") from None

    @field_validator("greetings_by_language")
    @classmethod
    def _languages_are_codes(cls, value: dict[str, LanguageGreetings]) -> dict[str, LanguageGreetings]:
        codes = {language: language_code(language) for language in value}
        wrong = sorted(language for language, code in codes.items() if code is None)
        if wrong:
            raise ValueError(f"GREETINGS_BY_LANGUAGE keys must be language codes (es, pt-br): {wrong}")
        return {code: value[language] for language, code in codes.items() if code}

    def greetings_in(self, language: str) -> LanguageGreetings | None:
        """The greetings for ``language`` ("pt-br"), else for its base language ("pt")."""
        base = language.split("-")[0]
        return self.greetings_by_language.get(language) or self.greetings_by_language.get(base)

    def writes_in(self, language: str) -> bool:
        """Whether the default greetings are in ``language`` ("en-us" is English)."""
        return language.split("-")[0] == self.greeting_language.split("-")[0]

    @model_validator(mode="after")
    def _agent_numbers_in_e164(self) -> Self:
        numbers = (normalise_phone_number(n, self.default_country_code) for n in self.agent_numbers)
        object.__setattr__(self, "agent_numbers", frozenset(n for n in numbers if n))
        return self


class AudioSourceSettings(_EnvironmentModel):
    # Lets processing fetch a call's audio from ElevenLabs when the webhook was over the size limit.
    elevenlabs_api_key: SecretStr | None = Field(default=None, validation_alias="ELEVENLABS_API_KEY")
    elevenlabs_base_url: str = Field(
        default="https://api.elevenlabs.io", validation_alias="ELEVENLABS_BASE_URL"
    )
    # Seconds after a transcription is processed before its audio, if still not archived (an audio
    # webhook over the 6 MB request limit never arrives), is fetched from ElevenLabs. Needs
    # ELEVENLABS_API_KEY. At most 900: in AWS it is an SQS message's DelaySeconds.
    audio_fetch_delay_seconds: int = Field(
        default=600, ge=0, le=900, validation_alias="AUDIO_FETCH_DELAY_SECONDS"
    )
    # The processing queue's URL, where the processor sends itself that delayed check (the stack sets it).
    processing_queue_url: str | None = Field(default=None, validation_alias="PROCESSING_QUEUE_URL")
    # Its dead-letter queue's URL, which the processor re-drives once Mem0 answers again (the stack sets it).
    dead_letter_queue_url: str | None = Field(default=None, validation_alias="DEAD_LETTER_QUEUE_URL")
    # Seconds before the first retry of an event whose processing failed (Mem0 throttling or down);
    # each later retry waits twice as long, up to 15 minutes, and never less than Mem0's Retry-After
    # (``retry_schedule``). In AWS it is the failed message's visibility timeout.
    retry_first_delay_seconds: int = Field(
        default=30, ge=1, le=900, validation_alias="RETRY_FIRST_DELAY_SECONDS"
    )


class RedactionSettings(_EnvironmentModel):
    # Sensitive numbers kept out of memories and of what later calls hear: national_id, payment_card,
    # bank_account (comma-separated), "all" or "none". The archive keeps what was said.
    redact_kinds: Annotated[frozenset[SensitiveKind], NoDecode] = Field(
        default=ALL_KINDS, validation_alias="REDACT_KINDS"
    )

    _parse_redact_kinds = field_validator("redact_kinds", mode="before")(parse_kinds)


class ScopeSettings(_EnvironmentModel):
    # Whose memory a call uses: "caller" (one per caller, shared by the workspace's agents) or
    # "caller_and_agent" (one per caller and agent: unrelated agents keep their callers apart).
    memory_scope: MemoryScope = Field(default=MemoryScope.CALLER, validation_alias="MEMORY_SCOPE")


class RetentionSettings(_EnvironmentModel):
    # Days after a caller's last call when their brief and memories are neither used nor kept
    # (purged daily in AWS, by `agentic-memory retention purge` locally). Unset: kept forever.
    retention_days: int | None = Field(default=None, ge=1, le=36500, validation_alias="RETENTION_DAYS")


class EmbeddedLlmSettings(_EnvironmentModel):
    # An OpenAI-compatible LLM for the embedded engine (local runtime only). With a URL and a model,
    # Mem0 extracts facts from each transcript; without them, transcripts are stored as passages.
    embedded_llm_base_url: str | None = Field(default=None, validation_alias="EMBEDDED_LLM_BASE_URL")
    embedded_llm_model: str | None = Field(default=None, validation_alias="EMBEDDED_LLM_MODEL")
    # Left unset for servers that need none (Ollama, llama.cpp).
    embedded_llm_api_key: SecretStr | None = Field(default=None, validation_alias="EMBEDDED_LLM_API_KEY")

    @model_validator(mode="after")
    def _llm_is_complete(self) -> Self:
        if bool(self.embedded_llm_base_url) != bool(self.embedded_llm_model):
            raise ValueError("EMBEDDED_LLM_BASE_URL and EMBEDDED_LLM_MODEL go together: set both or neither")
        if self.embedded_llm_base_url and not self.embedded_llm_base_url.startswith(("http://", "https://")):
            raise ValueError("EMBEDDED_LLM_BASE_URL must be an http:// or https:// URL")
        return self


# ---- one model per function: the union of the groups it uses ----


class ConversationInitiationSettings(
    WorkspaceKeySettings,
    GreetingSettings,
    ArchiveSettings,
    RedactionSettings,
    ScopeSettings,
    RetentionSettings,
):
    """The conversation initiation webhook: its key, greetings and the archive, where the caller's brief
    is. No Mem0: the pre-call reads one brief, so it neither needs nor holds the Mem0 key."""


class SearchMemorySettings(
    ToolSettings,
    IdentitySettings,
    MemorySettings,
    ArchiveSettings,
    RedactionSettings,
    ScopeSettings,
    RetentionSettings,
):
    """The search_memory server tool: its key, the recall index in the archive and the memory store."""


class PostCallSettings(SignatureSettings, IdentitySettings, ArchiveSettings):
    """The post-call webhook acknowledgement: signature secrets and the archive, nothing else."""


class ProcessorSettings(
    IdentitySettings,
    MemorySettings,
    ArchiveSettings,
    AudioSourceSettings,
    RedactionSettings,
    ScopeSettings,
    RetentionSettings,
):
    """Post-call processing: the archive, the memory it writes and where missing audio comes from; the
    retention, so that an expired caller who calls again starts a new brief."""


class RetentionPurgeSettings(MemorySettings, ArchiveSettings, ScopeSettings, RetentionSettings):
    """The daily purge: what expired (the retention period) and where it is kept (archive, memory)."""


class Settings(
    ConversationInitiationSettings,
    SearchMemorySettings,
    PostCallSettings,
    ProcessorSettings,
    RetentionPurgeSettings,
    EmbeddedLlmSettings,
):
    """Every setting: the local runtime and the operator commands serve all functions in one process."""


def environment_names(model: type[BaseSettings]) -> frozenset[str]:
    """Every environment variable ``model`` reads."""
    aliases = (field.validation_alias for field in model.model_fields.values())
    return frozenset(alias for alias in aliases if isinstance(alias, str))
