"""Typed stack settings: the fixture stack files are complete and valid; bad values are refused before
any resource exists; the program reads config the way the CLI hands it over. (The repository's own
stack files are checked in test_stack_files.py.)"""

import json

import pulumi
import pytest
from infra_fixtures import FIXTURE_STACKS, fixture_config, fixture_settings
from pydantic import ValidationError

from agentic_memory.adapters.ssm_parameters import SECRET_VARIABLES
from infra import program
from infra.functions import FUNCTIONS
from infra.secret_config import SECRETS, MissingSecrets, load_secrets, required_secrets
from infra.settings import (
    PROJECT_NAMESPACE,
    FunctionSettings,
    FunctionsSettings,
    LifecycleRule,
    StackSettings,
    StackSettingsError,
    load_settings,
    settings_from_config,
)
from infra.stack import METRICS_NAMESPACE
from infra.synth import use_mocks
from services.observability import NAMESPACE


@pytest.mark.parametrize("stack", FIXTURE_STACKS)
def test_every_fixture_stack_file_yields_valid_settings(stack):
    settings = fixture_settings(stack)
    assert settings.stack == stack and settings.project == PROJECT_NAMESPACE
    assert settings.region == "us-east-1"


def test_defaults_are_arm64_and_seven_days_of_logs():
    settings = settings_from_config(PROJECT_NAMESPACE, "dev", "us-east-1", {})
    assert settings.architecture == "arm64"
    assert settings.log_retention_days == 7
    assert settings.functions.client_data.p95_budget_ms == 500
    assert settings.functions.retrieve.p95_budget_ms == 300
    assert settings.functions.post_call.p95_budget_ms == 100


@pytest.mark.parametrize(
    "values",
    [
        {"logRetentionDays": "8"},
        {"architecture": "arm"},
        {"unknownSetting": "1"},
        {"functions": {"retrieve": {"timeoutSeconds": 1, "p95BudgetMs": 1500}}},
        {"archive": {"lifecycle": [{"id": "x", "prefix": "a/"}]}},
        {"queue": {"maximumConcurrency": 1}},
        {"alarmEmail": "not-an-address"},
    ],
    ids=[
        "retention",
        "architecture",
        "unknown",
        "budget-over-timeout",
        "rule-without-action",
        "concurrency",
        "email",
    ],
)
def test_invalid_settings_are_refused_before_anything_is_built(values):
    with pytest.raises(ValidationError):
        settings_from_config(PROJECT_NAMESPACE, "dev", "us-east-1", values)


@pytest.mark.parametrize("stack_name", ["Prod", "a-very-long-stack-name", "1dev"])
def test_stack_names_must_fit_into_resource_names(stack_name):
    with pytest.raises(ValidationError):
        settings_from_config(PROJECT_NAMESPACE, stack_name, "us-east-1", {})


def test_the_longest_stack_name_still_fits_aws_name_limits():
    settings = settings_from_config(PROJECT_NAMESPACE, "s" * 13, "us-east-1", {})
    assert len(settings.bucket_prefix) <= 37
    assert all(len(settings.function_name(spec.key)) <= 64 for spec in FUNCTIONS)
    assert len(f"{settings.resource_prefix}-post-call-events-dlq") <= 80


def test_lifecycle_rules_respect_what_s3_accepts():
    with pytest.raises(ValidationError, match="needs days >= 30"):
        LifecycleRule(id="x", prefix="p/", transitions=[{"days": 10, "storageClass": "STANDARD_IA"}])
    with pytest.raises(ValidationError, match="after the last transition"):
        LifecycleRule(
            id="x", prefix="p/", expireAfterDays=30, transitions=[{"days": 30, "storageClass": "STANDARD_IA"}]
        )
    rule = LifecycleRule(id="x", prefix="p/", transitions=[{"days": 30, "storageClass": "STANDARD_IA"}])
    assert rule.transitions[0].storage_class == "STANDARD_IA"


def test_a_budget_cannot_exceed_the_timeout():
    with pytest.raises(ValidationError, match="cannot exceed"):
        FunctionSettings(timeout_seconds=1, p95_budget_ms=1001)


def inside_program(stack, step, secret_values=None, extra_config=None):
    """Run ``step`` as the program would, with the stack's config as the CLI passes it (strings, JSON
    for structured values), plus ``extra_config`` as the CLI would pass it."""
    config, secret_keys, _ = fixture_config(stack, secret_values)
    config.update(extra_config or {})
    use_mocks(PROJECT_NAMESPACE, stack, "us-east-1", config, secret_keys)
    result = {}

    @pulumi.runtime.test
    def program():
        result["value"] = step()

    program()
    return result["value"]


@pytest.mark.parametrize("stack", FIXTURE_STACKS)
def test_the_program_reads_config_as_the_cli_hands_it_over(stack):
    # When the program loads its settings through pulumi.Config
    loaded = inside_program(stack, load_settings)
    # Then they equal the settings read straight from the YAML
    assert isinstance(loaded, StackSettings)
    assert loaded == fixture_settings(stack)


def test_prod_and_staging_refuse_to_deploy_without_a_tool_key():
    for stack in ("staging", "prod"):
        assert "ELEVENLABS_TOOL_KEY" in required_secrets(fixture_settings(stack))
    assert "ELEVENLABS_TOOL_KEY" not in required_secrets(fixture_settings("dev"))
    # Given prod's config without elevenlabs:toolKey and mem0:apiKey
    unset = {"elevenlabs:toolKey": None, "mem0:apiKey": None}
    # Then loading the secrets fails with the commands that set both
    with pytest.raises(MissingSecrets) as refused:
        inside_program("prod", lambda: load_secrets(load_settings()), unset)
    assert refused.value.config_keys == ["elevenlabs:toolKey", "mem0:apiKey"]
    assert "pulumi config set -s prod --secret elevenlabs:toolKey" in str(refused.value)


def test_the_stack_and_the_application_agree_on_secret_names_and_metrics_namespace():
    assert {spec.variable for spec in SECRETS} == set(SECRET_VARIABLES)
    assert METRICS_NAMESPACE == NAMESPACE


@pytest.mark.parametrize(
    ("key", "value", "closest"),
    [
        ("agentic-memory:retentionDay", "30", "agentic-memory:retentionDays"),
        ("agentic-memory:alarmemail", "oncall@example.com", "agentic-memory:alarmEmail"),
        ("mem0:timeout", "0.5", "mem0:timeoutSeconds"),
        ("elevenlabs:tookKey", "[secret]", "elevenlabs:toolKey"),
    ],
)
def test_a_misspelt_key_stops_the_program_naming_it_and_the_closest_known_one(key, value, closest):
    # Given prod's config with a misspelt key, as `pulumi up` hands it to the program
    # When the program runs (infra.program.main, what `pulumi preview` and `pulumi up` run)
    with pytest.raises(StackSettingsError) as refused:
        inside_program("prod", lambda: program.main(require_artifact=False), extra_config={key: value})
    # Then it stops before any resource, naming the stack, the key and the closest known key
    message = str(refused.value)
    assert message.startswith("stack prod (Pulumi.prod.yaml) has settings this program cannot use")
    assert f"{key} is not a setting; did you mean {closest}?" in message
    # The CLI shows a RunError's message without a traceback
    assert isinstance(refused.value, pulumi.RunError)


def test_an_invalid_value_stops_the_program_naming_the_key_and_the_stack():
    extra = {
        "agentic-memory:functions": '{"retrieve": {"timeoutSeconds": 1, "p95BudgetMs": 1500}}',
        "agentic-memory:logLevel": "LOUD",
    }
    with pytest.raises(StackSettingsError) as refused:
        inside_program("staging", load_settings, extra_config=extra)
    assert refused.value.problems == [
        "agentic-memory:logLevel: Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR' (given 'LOUD')",
        "agentic-memory:functions.retrieve: p95BudgetMs cannot exceed the timeout",
    ]
    assert "stack staging (Pulumi.staging.yaml)" in str(refused.value)


def test_a_partial_function_override_keeps_that_functions_other_defaults():
    # Given `pulumi config set --path agentic-memory:functions.retention.memoryMb 1024` on dev, whose
    # file sets the other four functions in full
    extra = {
        "agentic-memory:functions": json.dumps(
            {
                **fixture_stack_functions("dev"),
                "retention": {"memoryMb": 1024},
                "retrieve": {"memoryMb": 2048},
            }
        )
    }
    # When the program loads its settings
    settings = inside_program("dev", load_settings, extra_config=extra)
    # Then the fields given are set and the others keep the function's defaults
    defaults = FunctionsSettings()
    assert settings.functions.retention == defaults.retention.model_copy(update={"memory_mb": 1024})
    assert settings.functions.retrieve == defaults.retrieve.model_copy(update={"memory_mb": 2048})
    assert settings.functions.processor.timeout_seconds == 60


def fixture_stack_functions(stack):
    config, _, _ = fixture_config(stack)
    return json.loads(config["agentic-memory:functions"])
