"""Parity of settings (issue 12 item 3): every stack setting is in the deployment guide's one table and
every key in that table exists; each application setting a user may want per environment is a stack
setting that reaches exactly the functions whose settings model reads it."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from agentic_memory.adapters.ssm_parameters import SECRET_VARIABLES
from agentic_memory.settings import LAMBDA_MARKER, Settings, environment_names
from infra.functions import FUNCTIONS
from infra.settings import (
    MEM0_KEYS,
    MEM0_NAMESPACE,
    PROJECT_KEYS,
    PROJECT_NAMESPACE,
    FunctionsSettings,
    parse_config_value,
    settings_from_config,
)
from infra.stack import function_environment

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"
ROW = re.compile(r"^\| `([a-z0-9-]+:[A-Za-z0-9]+)` \| (?:`([A-Z0-9_]+)`)? *\|")

# Stand-ins for the archive bucket and the secret parameters: the environment needs only their names.
BUCKET = SimpleNamespace(name="bucket")
NO_SECRETS = SimpleNamespace(names={}, parameters={})

# Application settings that are not chosen per stack, and why.
NOT_STACK_SETTINGS = {
    LAMBDA_MARKER: "set by Lambda itself",
    "AGENTIC_MEMORY_HOME": "the local runtime's data folder",
    "ARCHIVE_BACKEND": "always s3 in AWS, set by the stack",
    "S3_BUCKET_NAME": "the stack's own bucket",
    "MEMORY_BACKEND": "always mem0-platform in AWS, set by the stack",
    "PROCESSING_QUEUE_URL": "the stack's own queue",
    "DEAD_LETTER_QUEUE_URL": "the stack's own dead-letter queue",
    "ELEVENLABS_BASE_URL": "ElevenLabs' API; replaced only by tests' emulators",
    "EMBEDDED_LLM_BASE_URL": "the embedded engine runs only locally",
    "EMBEDDED_LLM_MODEL": "the embedded engine runs only locally",
    "EMBEDDED_LLM_API_KEY": "the embedded engine runs only locally",
}

# A value for each documented setting that reaches the functions, and what the functions see.
EXAMPLES = {
    "logLevel": ("DEBUG", "DEBUG"),
    "agentPhoneNumbers": (["+15550100999"], "+15550100999"),
    "defaultCountryCode": ("44", "44"),
    "callerIdVariables": (["customer_phone", "lead_phone"], "customer_phone,lead_phone"),
    "workspaceKeyHeader": ("Authorization-Token", "Authorization-Token"),
    "welcomeMessage": ("Hello, this is the memoir line.", "Hello, this is the memoir line."),
    "returningGreeting": ("{name}, welcome back!", "{name}, welcome back!"),
    "outboundWelcomeMessage": ("Hi, the memoir line calling.", "Hi, the memoir line calling."),
    "outboundReturningGreeting": ("Hi {name}, the memoir line here.", "Hi {name}, the memoir line here."),
    "greetingLanguage": ("es", "es"),
    "greetingsByLanguage": (
        {"pt-br": {"returning": "Olá de novo, {name}!"}},
        '{"pt-br":{"returning":"Olá de novo, {name}!"}}',
    ),
    "languageOverride": ("true", "true"),
    "promptOverrideTemplate": ("You are Ada. {{memory_context}}", "You are Ada. {{memory_context}}"),
    "precallBudgetSeconds": ("0.6", "0.6"),
    "signatureToleranceSeconds": ("3600", "3600"),
    "redactKinds": (["payment_card", "bank_account"], "payment_card,bank_account"),
    "audioFetchDelaySeconds": ("300", "300"),
    "retryFirstDelaySeconds": ("60", "60"),
    "memoryScope": ("caller_and_agent", "caller_and_agent"),
    "retentionDays": ("365", "365"),
    "searchAnswerMaxChars": ("2000", "2000"),
    "searchBudgetSeconds": ("0.15", "0.15"),
    "mem0.baseUrl": ("https://mem0.internal", "https://mem0.internal"),
    "mem0.searchLimit": ("5", "5"),
    "mem0.timeoutSeconds": ("0.5", "0.5"),
}


def documented() -> dict[str, str | None]:
    """The guide's settings table: stack key -> the application setting it sets (None: infrastructure)."""
    rows = [ROW.match(line) for line in GUIDE.read_text().splitlines()]
    found = [(row.group(1), row.group(2)) for row in rows if row]
    keys = [key for key, _ in found]
    assert len(keys) == len(set(keys)), "a setting is documented twice: the guide has one table"
    return dict(found)


def stack_keys() -> set[str]:
    return (
        {f"{PROJECT_NAMESPACE}:{key}" for key in PROJECT_KEYS}
        | {f"{MEM0_NAMESPACE}:{key}" for key in MEM0_KEYS}
        | {"aws:region"}
    )


def test_every_stack_setting_is_documented_and_every_documented_one_exists():
    table = set(documented())
    assert stack_keys() - table == set(), "stack settings missing from docs/deployment.md"
    assert table - stack_keys() == set(), "docs/deployment.md documents settings that do not exist"


def _environments_with(values: dict[str, object]) -> dict[str, dict[str, object]]:
    project = {k: v for k, v in values.items() if not k.startswith("mem0.")}
    mem0 = {k.removeprefix("mem0."): v for k, v in values.items() if k.startswith("mem0.")}
    settings = settings_from_config(PROJECT_NAMESPACE, "dev", "us-east-1", {**project, "mem0": mem0})
    return {
        spec.key: function_environment(spec, settings, BUCKET, NO_SECRETS)  # type: ignore[arg-type]
        for spec in FUNCTIONS
    }


@pytest.mark.parametrize("key", sorted(k for k, env in documented().items() if env))
def test_a_documented_setting_reaches_the_functions_that_read_its_variable(key):
    # Given the documented stack setting and the application setting it is said to set
    variable = documented()[key]
    namespace, name = key.split(":")
    example, expected = EXAMPLES[name if namespace == PROJECT_NAMESPACE else f"mem0.{name}"]
    # When a stack sets it
    given = _environments_with({name if namespace == PROJECT_NAMESPACE else f"mem0.{name}": example})
    # Then exactly the functions whose settings read that variable get it, with the value set
    reached = {function for function, environ in given.items() if environ.get(variable) == expected}
    readers = {spec.key for spec in FUNCTIONS if variable in environment_names(spec.settings_model)}
    assert reached == (readers if variable != "LOG_LEVEL" else {spec.key for spec in FUNCTIONS})
    assert reached, f"{key} reaches no function"


def test_every_application_setting_is_a_stack_setting_a_secret_or_named_as_neither():
    # Given every variable the application reads
    application = environment_names(Settings)
    # Then each is set by a documented stack setting, is a secret (pulumi config set --secret), or is
    # listed here with the reason it is not chosen per stack
    per_stack = {env for env in documented().values() if env}
    unaccounted = application - per_stack - set(SECRET_VARIABLES) - set(NOT_STACK_SETTINGS)
    assert unaccounted == set(), f"application settings a stack cannot set: {sorted(unaccounted)}"
    assert set(NOT_STACK_SETTINGS) <= application, "a listed exception is no longer a setting"


@pytest.mark.parametrize(
    "values",
    [
        {"returningGreeting": "Welcome back!"},
        {"precallBudgetSeconds": "3"},
        {"redactKinds": ["passport"]},
        {"audioFetchDelaySeconds": "901"},
        {"signatureToleranceSeconds": "5"},
        {"welcomeMessage": ""},
        {"outboundReturningGreeting": "Hi, calling you back."},
        {"greetingsByLanguage": {"es": {"returning": "¡Hola de nuevo!"}}},
        {"greetingsByLanguage": {"Spanish!": {"returning": "¡Hola de nuevo, {name}!"}}},
        {"greetingLanguage": "english"},
    ],
)
def test_bad_application_settings_are_refused_before_any_resource_exists(values):
    with pytest.raises(ValueError):
        settings_from_config(PROJECT_NAMESPACE, "dev", "us-east-1", values)


def test_a_greeting_that_starts_with_a_brace_stays_text_as_the_cli_hands_it_over():
    # Given the CLI's raw value of `pulumi config set agentic-memory:returningGreeting '{name}, hi!'`
    raw = parse_config_value("{name}, welcome back!")
    # Then it is the text, and a structured value is still JSON
    assert raw == "{name}, welcome back!"
    assert parse_config_value('["payment_card"]') == ["payment_card"]


FUNCTION_ROW = re.compile(r"^\| `([a-zA-Z]+)` \| `[a-z-]+`[^|]*\| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$")


def test_the_guide_names_each_functions_yaml_name_and_defaults():
    # Given the guide's functions table (§4.1)
    rows = {m.group(1): tuple(map(int, m.groups()[1:])) for m in map(FUNCTION_ROW.match, _guide_lines()) if m}
    # Then it lists every function's YAML name with the defaults the program applies
    defaults = FunctionsSettings()
    expected = {
        (field.alias or name): (
            getattr(defaults, name).memory_mb,
            getattr(defaults, name).timeout_seconds,
            getattr(defaults, name).p95_budget_ms,
            getattr(defaults, name).provisioned_concurrency,
        )
        for name, field in FunctionsSettings.model_fields.items()
    }
    assert rows == expected


def _guide_lines() -> list[str]:
    return GUIDE.read_text().splitlines()
