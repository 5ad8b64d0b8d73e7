"""Typed stack settings: the stack files are complete, valid and secret-free; bad values are refused
before any resource exists; the program reads config the way the CLI hands it over."""

import pulumi
import pytest
from pydantic import ValidationError

from agentic_memory.adapters.ssm_parameters import SECRET_VARIABLES
from infra.functions import FUNCTIONS
from infra.secret_config import SECRETS, MissingSecrets, load_secrets, required_secrets
from infra.settings import (
    MEM0_KEYS,
    PROJECT_KEYS,
    PROJECT_NAMESPACE,
    FunctionSettings,
    LifecycleRule,
    StackSettings,
    load_settings,
    settings_from_config,
)
from infra.stack import METRICS_NAMESPACE
from infra.synth import STACKS, settings_of, stack_config, stack_file_config, use_mocks
from services.observability import NAMESPACE

SECRET_CONFIG_KEYS = {spec.config_key for spec in SECRETS}
ALLOWED_PROVIDER_KEYS = {"aws:region"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_file_yields_valid_settings(stack):
    settings = settings_of(stack)
    assert settings.stack == stack and settings.project == PROJECT_NAMESPACE
    assert settings.region == "us-east-1"


@pytest.mark.parametrize("stack", STACKS)
def test_every_key_in_a_stack_file_is_a_known_setting(stack):
    known = (
        {f"{PROJECT_NAMESPACE}:{key}" for key in PROJECT_KEYS}
        | {f"mem0:{key}" for key in MEM0_KEYS}
        | SECRET_CONFIG_KEYS
        | ALLOWED_PROVIDER_KEYS
    )
    assert set(stack_file_config(stack)) <= known


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_are_never_in_a_stack_file_in_plain_text(stack):
    # Given the committed stack file
    config = stack_file_config(stack)
    # Then a secret key is either absent or encrypted by the CLI, and nothing else is encrypted
    for key, value in config.items():
        encrypted = isinstance(value, dict) and set(value) == {"secure"}
        assert encrypted == (key in SECRET_CONFIG_KEYS), key


def test_the_shipped_stack_files_hold_no_secret_at_all():
    # Ciphertext can only come from `pulumi config set --secret` on a deployer's machine.
    for stack in STACKS:
        assert not SECRET_CONFIG_KEYS & set(stack_file_config(stack))


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


def inside_program(stack, step, secret_values=None):
    """Run ``step`` as the program would, with the stack's config as the CLI passes it (strings, JSON
    for structured values)."""
    config, secret_keys, _ = stack_config(stack, secret_values)
    use_mocks(PROJECT_NAMESPACE, stack, "us-east-1", config, secret_keys)
    result = {}

    @pulumi.runtime.test
    def program():
        result["value"] = step()

    program()
    return result["value"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_reads_config_as_the_cli_hands_it_over(stack):
    # When the program loads its settings through pulumi.Config
    loaded = inside_program(stack, load_settings)
    # Then they equal the settings read straight from the YAML
    assert isinstance(loaded, StackSettings)
    assert loaded == settings_of(stack)


def test_prod_and_staging_refuse_to_deploy_without_a_tool_key():
    for stack in ("staging", "prod"):
        assert "ELEVENLABS_TOOL_KEY" in required_secrets(settings_of(stack))
    assert "ELEVENLABS_TOOL_KEY" not in required_secrets(settings_of("dev"))
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
