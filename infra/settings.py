"""Typed stack settings: everything a stack may choose, validated once before any resource exists.

Values come from ``Pulumi.<stack>.yaml`` (project namespace ``agentic-memory``, plus ``aws:region``
and the non-secret ``mem0:*`` keys); defaults live here and only here. Secrets are not settings:
see ``infra.secret_config``. Keys in the YAML are camelCase (``logRetentionDays``), fields snake_case.
"""

import difflib
import json
import re
import typing
from collections.abc import Sequence
from typing import Any, Literal

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from agentic_memory.caller_profile import language_code
from agentic_memory.settings import LanguageGreetings

PROJECT_NAMESPACE = "agentic-memory"
MEM0_NAMESPACE = "mem0"
# What CloudWatch Logs accepts for retentionInDays.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)  # fmt: skip
# AWS refuses an infrequent-access transition sooner than this many days after creation.
MIN_DAYS_BEFORE_INFREQUENT_ACCESS = 30
# REDACT_KINDS' values (agentic_memory.redaction.SensitiveKind, or all of them, or none).
RedactKind = Literal["national_id", "payment_card", "bank_account", "all", "none"]
StorageClass = Literal[
    "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"
]


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class FunctionSettings(_Settings):
    memory_mb: int = Field(default=1024, ge=128, le=10240)
    timeout_seconds: int = Field(ge=1, le=900)
    # The p95 duration above which the latency alarm fires: the function's share of its budget.
    p95_budget_ms: int = Field(ge=1)
    # Pre-initialised environments behind the "live" alias; 0 = none (cold starts allowed).
    provisioned_concurrency: int = Field(default=0, ge=0, le=100)

    @model_validator(mode="after")
    def _budget_fits_timeout(self) -> "FunctionSettings":
        if self.p95_budget_ms > self.timeout_seconds * 1000:
            raise ValueError("p95BudgetMs cannot exceed the timeout")
        return self


class FunctionsSettings(_Settings):
    """Budgets (docs/architecture.md): pre-call 500 ms, retrieve 300 ms, post-call ack 100 ms (p95).

    A stack file may give only some fields of a function (``retention: {memoryMb: 1024}``): the rest
    keep that function's defaults below.
    """

    @model_validator(mode="before")
    @classmethod
    def _merge_with_each_functions_defaults(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        merged = dict(values)
        for name, field in cls.model_fields.items():
            key = field.alias or name
            given = values.get(key, values.get(name))
            if isinstance(given, dict) and isinstance(field.default, FunctionSettings):
                merged.pop(name, None)
                merged[key] = {**field.default.model_dump(by_alias=True), **given}
        return merged

    client_data: FunctionSettings = FunctionSettings(timeout_seconds=3, p95_budget_ms=500)
    retrieve: FunctionSettings = FunctionSettings(timeout_seconds=3, p95_budget_ms=300)
    # Audio events can be ~6 MB of base64: memory also buys the CPU that parses them.
    post_call: FunctionSettings = FunctionSettings(timeout_seconds=10, p95_budget_ms=100)
    processor: FunctionSettings = FunctionSettings(memory_mb=1024, timeout_seconds=60, p95_budget_ms=20000)
    # The daily retention purge: a few Mem0 and S3 calls per expired caller, off any call's path.
    retention: FunctionSettings = FunctionSettings(memory_mb=512, timeout_seconds=900, p95_budget_ms=600000)


class ApiSettings(_Settings):
    throttle_burst_limit: int = Field(default=50, ge=1)
    throttle_rate_limit: float = Field(default=25, gt=0)
    # 4xx are partly expected (forged or stale webhooks answer 401), so their alarm has headroom.
    client_error_alarm_threshold: int = Field(default=25, ge=1)
    server_error_alarm_threshold: int = Field(default=1, ge=1)


class Transition(_Settings):
    days: int = Field(ge=0)
    storage_class: StorageClass


class LifecycleRule(_Settings):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,254}$")
    prefix: str
    expire_after_days: int | None = Field(default=None, ge=1)
    transitions: tuple[Transition, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> "LifecycleRule":
        if self.expire_after_days is None and not self.transitions:
            raise ValueError(f"lifecycle rule {self.id} neither expires nor transitions anything")
        days = [t.days for t in self.transitions]
        if days != sorted(set(days)):
            raise ValueError(f"lifecycle rule {self.id}: transitions must be in increasing days")
        for transition in self.transitions:
            if transition.storage_class in ("STANDARD_IA", "ONEZONE_IA") and (
                transition.days < MIN_DAYS_BEFORE_INFREQUENT_ACCESS
            ):
                raise ValueError(f"lifecycle rule {self.id}: {transition.storage_class} needs days >= 30")
        if self.expire_after_days is not None and days and self.expire_after_days <= days[-1]:
            raise ValueError(f"lifecycle rule {self.id}: expiry must come after the last transition")
        return self


DEFAULT_LIFECYCLE = (
    # Pre-call request/response copies are for debugging a recent call, not a record.
    LifecycleRule(id="client-data-expires", prefix="client-data/", expire_after_days=30),
    # Transcripts and audio are the replayable record of what memory was built from: kept, but cheaper.
    LifecycleRule(
        id="post-call-to-infrequent-access",
        prefix="post-call/",
        transitions=(Transition(days=30, storage_class="STANDARD_IA"),),
    ),
)


class ArchiveSettings(_Settings):
    versioning: bool = False
    # Lets `pulumi destroy` delete a bucket that still holds objects: for throwaway stacks only.
    force_destroy: bool = False
    noncurrent_version_expiration_days: int = Field(default=30, ge=1)
    lifecycle: tuple[LifecycleRule, ...] = DEFAULT_LIFECYCLE

    @field_validator("lifecycle")
    @classmethod
    def _unique_ids(cls, rules: tuple[LifecycleRule, ...]) -> tuple[LifecycleRule, ...]:
        ids = [rule.id for rule in rules]
        if len(ids) != len(set(ids)):
            raise ValueError("lifecycle rule ids must be unique")
        return rules


class QueueSettings(_Settings):
    max_receive_count: int = Field(default=5, ge=1, le=1000)
    batch_size: int = Field(default=5, ge=1, le=10)
    maximum_batching_window_seconds: int = Field(default=0, ge=0, le=300)
    # Caps parallel processors, and with them the request rate Mem0 sees.
    maximum_concurrency: int = Field(default=5, ge=2, le=1000)
    message_retention_days: int = Field(default=4, ge=1, le=14)
    # Longer than the main queue, so a parked event outlives the time it takes to answer its alarm.
    dead_letter_retention_days: int = Field(default=14, ge=1, le=14)


class Mem0Settings(_Settings):
    """Unset values are not passed on: the application's own defaults (agentic_memory.settings) apply."""

    base_url: str | None = Field(default=None, pattern=r"^https://")
    # The Mem0 project this stack's key belongs to, as the Mem0 dashboard names it: not sent anywhere
    # (the key selects the project), recorded so that no two stacks share one (infra.stack_checks).
    project: str | None = Field(default=None, min_length=1, max_length=200)
    search_limit: int | None = Field(default=None, ge=1, le=50)
    timeout_seconds: float | None = Field(default=None, gt=0, le=30)


class StackSettings(_Settings):
    project: str
    # At most 13 characters: "agentic-memory-<stack>-archive-" must fit S3's 37-character bucket prefix.
    stack: str = Field(pattern=r"^[a-z][a-z0-9-]{0,12}$")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    architecture: Literal["arm64", "x86_64"] = "arm64"
    log_retention_days: int = 7
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The agents' own numbers: a pre-call from one of them is an outbound call (docs/architecture.md,
    # caller identity).
    agent_phone_numbers: tuple[str, ...] = ()
    # The country calling code whose national numbers callers arrive in (DEFAULT_COUNTRY_CODE).
    default_country_code: str | None = Field(default=None, pattern=r"^\+?[1-9][0-9]{0,2}$")
    # Dynamic variables a custom dialer names the caller in (CALLER_ID_VARIABLES).
    caller_id_variables: tuple[str, ...] = ()
    # The header the pre-call webhook's key arrives in, as named in ElevenLabs (WORKSPACE_KEY_HEADER).
    workspace_key_header: str | None = Field(default=None, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
    # Whose memory a call uses (MEMORY_SCOPE): "caller" or "caller_and_agent"; unset: the application's.
    memory_scope: Literal["caller", "caller_and_agent"] | None = None
    # Days after a caller's last call when their brief, memories and calls go (RETENTION_DAYS); unset: kept.
    retention_days: int | None = Field(default=None, ge=1, le=36500)
    # What the pre-call greets with (WELCOME_MESSAGE; RETURNING_GREETING needs a {name} slot). Unset:
    # the application's. Lambda's 4 KB for all variables bounds these texts and the prompt template.
    welcome_message: str | None = Field(default=None, min_length=1, max_length=500)
    returning_greeting: str | None = Field(default=None, pattern=r"\{name\}", max_length=500)
    # Calls the agent places (OUTBOUND_WELCOME_MESSAGE, OUTBOUND_RETURNING_GREETING with {name}); unset:
    # no first_message override on outbound calls.
    outbound_welcome_message: str | None = Field(default=None, min_length=1, max_length=500)
    outbound_returning_greeting: str | None = Field(default=None, pattern=r"\{name\}", max_length=500)
    # The language of the greetings above (GREETING_LANGUAGE), greetings in other languages
    # (GREETINGS_BY_LANGUAGE: {"es": {"returning": "... {name} ..."}}), and whether the agent allows the
    # language override (LANGUAGE_OVERRIDE). Unset: the application's.
    greeting_language: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")
    greetings_by_language: dict[str, LanguageGreetings] | None = None
    language_override: bool | None = None
    # An optional full system prompt with {{variable}} slots (PROMPT_OVERRIDE_TEMPLATE); unset: the
    # agent keeps its own prompt, which reads the memory_context dynamic variable (the default).
    prompt_override_template: str | None = Field(default=None, min_length=1, max_length=2500)
    # Seconds the whole pre-call answer may take (PRECALL_BUDGET_SECONDS); under the function's timeout.
    precall_budget_seconds: float | None = Field(default=None, gt=0, le=5)
    # The search_memory answer's size in characters, and how long it waits for Mem0's semantic results.
    search_answer_max_chars: int | None = Field(default=None, ge=300, le=20_000)
    search_budget_seconds: float | None = Field(default=None, gt=0, le=2)
    # How old a signed post-call delivery may be, in seconds (SIGNATURE_TOLERANCE_SECONDS).
    signature_tolerance_seconds: int | None = Field(default=None, ge=10, le=86400)
    # Sensitive numbers kept out of memories (REDACT_KINDS); unset: all kinds.
    redact_kinds: tuple[RedactKind, ...] | None = Field(default=None, min_length=1)
    # Seconds before a call's audio still missing is fetched from ElevenLabs (AUDIO_FETCH_DELAY_SECONDS).
    audio_fetch_delay_seconds: int | None = Field(default=None, ge=0, le=900)
    # Seconds before a failed post-call event is first retried (RETRY_FIRST_DELAY_SECONDS).
    retry_first_delay_seconds: int | None = Field(default=None, ge=1, le=900)
    # The ElevenLabs workspace whose agents call this stack (the pre-call webhook and the workspace
    # secrets are workspace-wide, so each stack has a workspace of its own): printed in the
    # elevenLabsSetup output, sent nowhere, and no two stacks may name the same (infra.stack_checks).
    eleven_labs_workspace: str | None = Field(default=None, min_length=1, max_length=200)
    # When true the stack refuses to deploy without elevenlabs:toolKey, and retrieve demands X-Tool-Key.
    require_tool_key: bool = False
    alarm_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    functions: FunctionsSettings = FunctionsSettings()
    api: ApiSettings = ApiSettings()
    archive: ArchiveSettings = ArchiveSettings()
    queue: QueueSettings = QueueSettings()
    mem0: Mem0Settings = Mem0Settings()

    @field_validator("log_retention_days")
    @classmethod
    def _known_retention(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise ValueError(f"CloudWatch keeps logs for one of {LOG_RETENTION_DAYS} days, not {days}")
        return days

    @field_validator("greetings_by_language")
    @classmethod
    def _greetings_fit(
        cls, value: dict[str, LanguageGreetings] | None
    ) -> dict[str, LanguageGreetings] | None:
        if value is None:
            return None
        wrong = sorted(language for language in value if language_code(language) is None)
        if wrong:
            raise ValueError(f"greetingsByLanguage keys must be language codes (es, pt-br): {wrong}")
        # Lambda's 4 KB for all variables: the greetings share it with the other texts.
        if len(greetings_variable(value)) > 1500:
            raise ValueError("greetingsByLanguage must fit in 1500 characters of JSON")
        return value

    @model_validator(mode="after")
    def _precall_budget_fits_timeout(self) -> "StackSettings":
        budget = self.precall_budget_seconds
        if budget is not None and budget >= self.functions.client_data.timeout_seconds:
            raise ValueError("precallBudgetSeconds must be shorter than the clientData function's timeout")
        return self

    @property
    def resource_prefix(self) -> str:
        """Physical names start with this, e.g. ``agentic-memory-dev``."""
        return f"{self.project}-{self.stack}"

    @property
    def parameter_path(self) -> str:
        return f"/{self.project}/{self.stack}/"

    @property
    def bucket_prefix(self) -> str:
        # S3 names are global: the provider appends a unique suffix to this.
        return f"{self.resource_prefix}-archive-"

    def function_name(self, key: str) -> str:
        return f"{self.resource_prefix}-{key}"


# Keys of the project namespace; the mem0 namespace holds Mem0Settings' keys (and the secret apiKey).
PROJECT_KEYS = tuple(
    field.alias or name
    for name, field in StackSettings.model_fields.items()
    if name not in ("project", "stack", "region", "mem0")
)
MEM0_KEYS = tuple(field.alias or name for name, field in Mem0Settings.model_fields.items())


def settings_from_config(
    project: str, stack: str, region: str | None, values: dict[str, Any]
) -> StackSettings:
    """Validate raw config values (strings as the CLI hands them over, or already-parsed JSON)."""
    return StackSettings.model_validate({"project": project, "stack": stack, "region": region, **values})


# Namespaces this program owns: every key in them must be one it reads (``aws:`` is the provider's).
ELEVENLABS_NAMESPACE = "elevenlabs"
OWNED_NAMESPACES = (PROJECT_NAMESPACE, MEM0_NAMESPACE, ELEVENLABS_NAMESPACE)


class StackSettingsError(pulumi.RunError):
    """A stack's settings the program cannot use: one line per problem, each naming its key.

    A RunError, so that `pulumi preview`/`up` stop with this message and no traceback.
    """

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        # Once each: a key can be both unknown to the namespace and refused by the model.
        self.problems = list(dict.fromkeys(problems))
        listed = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{source} has settings this program cannot use:\n{listed}")


def known_config_keys() -> frozenset[str]:
    """Every key of the owned namespaces the program reads: settings and secrets."""
    from infra.secret_config import SECRETS  # secret_config imports this module

    return frozenset(
        {f"{PROJECT_NAMESPACE}:{key}" for key in PROJECT_KEYS}
        | {f"{MEM0_NAMESPACE}:{key}" for key in MEM0_KEYS}
        | {spec.config_key for spec in SECRETS}
        | {"aws:region"}
    )


def unknown_config_keys(keys: typing.Iterable[str]) -> list[str]:
    """A problem for each key of an owned namespace that the program does not read, naming the
    closest known key: a misspelt setting must not deploy as if it were absent."""
    known = known_config_keys()
    problems = []
    for key in sorted(keys):
        if key.split(":", 1)[0] not in OWNED_NAMESPACES or key in known:
            continue
        problems.append(f"{key} is not a setting{_did_you_mean(key, known)}")
    return problems


def _did_you_mean(name: str, known: typing.Iterable[str]) -> str:
    by_case = {candidate.lower(): candidate for candidate in known}
    close = difflib.get_close_matches(name.lower(), list(by_case), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {by_case[close[0]]}?"
    namespace = name.split(":", 1)[0] + ":"
    neighbours = sorted(candidate for candidate in known if candidate.startswith(namespace))
    return f" (known here: {', '.join(neighbours)})" if len(neighbours) <= 8 else ""


def explain(error: ValidationError) -> list[str]:
    """pydantic's errors as one line each, naming the stack-file key (``agentic-memory:functions.
    retention.memoryMb``) and, for an unknown field, the closest known one."""
    problems = []
    for detail in error.errors():
        loc = tuple(detail["loc"])
        key = config_key(loc)
        message = str(detail["msg"]).removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            siblings = _field_names_at(loc[:-1])
            prefix = key[: len(key) - len(str(loc[-1]))]
            suggestion = _did_you_mean(key, [prefix + name for name in siblings]) if siblings else ""
            problems.append(f"{key} is not a setting{suggestion}")
        elif detail["type"] == "missing":
            problems.append(f"{key} is required")
        else:
            given = detail.get("input")
            shown = f" (given {given!r})" if isinstance(given, str | int | float | bool) else ""
            problems.append(f"{key}: {message}{shown}" if loc else message)
    return problems


def config_key(loc: tuple[Any, ...]) -> str:
    """The stack-file key (with its --path) of a location in StackSettings."""
    if not loc:
        return f"{PROJECT_NAMESPACE} settings"
    first, rest = str(loc[0]), loc[1:]
    if first == "region":
        return "aws:region"
    if first in ("project", "stack"):
        return "the stack's name"
    namespace = PROJECT_NAMESPACE
    if first == "mem0" and rest:
        namespace, first, rest = MEM0_NAMESPACE, str(rest[0]), rest[1:]
    path = first + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in rest)
    return f"{namespace}:{path}"


def _field_names_at(loc: tuple[Any, ...]) -> list[str]:
    """The YAML names known at ``loc`` (top level: the project's keys)."""
    if not loc:
        return list(PROJECT_KEYS)
    model: type[BaseModel] = StackSettings
    skip_key = False
    for part in loc:
        if isinstance(part, int) or skip_key:
            skip_key = False
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        inner = _model_in(field.annotation) if field else None
        if inner is None:
            return []
        model, skip_key = inner
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_in(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """The settings model inside ``annotation``, and whether a mapping's key comes before it."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found:
            return found[0], found[1] or origin is dict
    return None


def load_settings() -> StackSettings:
    """The current stack's settings, read from Pulumi config; stops the program (preview or up) on a
    key it does not know or a value it cannot use, naming each."""
    project_config = pulumi.Config()
    mem0_config = pulumi.Config(MEM0_NAMESPACE)
    problems = unknown_config_keys(_configured_keys())
    values: dict[str, Any] = {key: parse_config_value(project_config.get(key)) for key in PROJECT_KEYS}
    values["mem0"] = {key: parse_config_value(mem0_config.get(key)) for key in MEM0_KEYS}
    values["mem0"] = {key: value for key, value in values["mem0"].items() if value is not None}
    present = {key: value for key, value in values.items() if value is not None}
    try:
        settings = settings_from_config(
            pulumi.get_project(), pulumi.get_stack(), pulumi.Config("aws").get("region"), present
        )
    except ValidationError as error:
        problems += explain(error)
    if problems:
        raise StackSettingsError(f"stack {pulumi.get_stack()} (Pulumi.{pulumi.get_stack()}.yaml)", problems)
    return settings


def _configured_keys() -> set[str]:
    # Every key the CLI handed over: the language host passes the stack's config as PULUMI_CONFIG,
    # the mocks through set_all_config.
    return set(pulumi.runtime.config.CONFIG.get()) | set(pulumi.runtime.config.get_config_env())


def greetings_variable(greetings: dict[str, LanguageGreetings]) -> str:
    """GREETINGS_BY_LANGUAGE as the functions read it: JSON, greetings left out omitted."""
    values = {language: entry.model_dump(exclude_none=True) for language, entry in greetings.items()}
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def parse_config_value(raw: str | None) -> Any:
    # The CLI passes structured values (`pulumi config set --path`, YAML maps and lists) as JSON text
    # and scalars as plain strings, which pydantic coerces ("7" -> 7, "true" -> True).
    # A text that merely starts with a brace (a greeting "{name}, welcome back") stays text.
    if raw is not None and re.match(r"\s*[\[{]", raw):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw
