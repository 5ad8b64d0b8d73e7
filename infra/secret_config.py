"""Secrets: secret Pulumi config in, SSM SecureString parameters out, parameter names to the functions.

A secret value only ever travels as a secret ``Output`` (encrypted in Pulumi state) into an SSM
parameter. Functions get ``<VARIABLE>_PARAMETER`` = the parameter's name and read the value at run
time (``agentic_memory.adapters.ssm_parameters``), so no key shows up in the Lambda console, in
``GetFunctionConfiguration`` or in a Pulumi diff of the function.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from agentic_memory.adapters.ssm_parameters import PARAMETER_SUFFIX
from infra.settings import StackSettings


@dataclass(frozen=True)
class SecretSpec:
    variable: str  # the environment name the application knows, e.g. ELEVENLABS_HMAC_KEY
    namespace: str  # Pulumi config namespace
    key: str  # Pulumi config key: `pulumi config set --secret <namespace>:<key>`
    parameter: str  # last segment of the SSM parameter name

    @property
    def config_key(self) -> str:
        return f"{self.namespace}:{self.key}"

    @property
    def parameter_variable(self) -> str:
        return self.variable + PARAMETER_SUFFIX


SECRETS = (
    SecretSpec("ELEVENLABS_WORKSPACE_KEY", "elevenlabs", "workspaceKey", "elevenlabs-workspace-key"),
    SecretSpec("ELEVENLABS_HMAC_KEY", "elevenlabs", "hmacKey", "elevenlabs-hmac-key"),
    SecretSpec("ELEVENLABS_TOOL_KEY", "elevenlabs", "toolKey", "elevenlabs-tool-key"),
    SecretSpec("ELEVENLABS_API_KEY", "elevenlabs", "apiKey", "elevenlabs-api-key"),
    SecretSpec("MEM0_API_KEY", "mem0", "apiKey", "mem0-api-key"),
)
SECRETS_BY_VARIABLE = {spec.variable: spec for spec in SECRETS}

# Without these the functions cannot authenticate ElevenLabs or reach Mem0 Platform at all.
ALWAYS_REQUIRED = ("ELEVENLABS_WORKSPACE_KEY", "ELEVENLABS_HMAC_KEY", "MEM0_API_KEY")


def required_secrets(settings: StackSettings) -> tuple[str, ...]:
    return ALWAYS_REQUIRED + (("ELEVENLABS_TOOL_KEY",) if settings.require_tool_key else ())


class MissingSecrets(pulumi.RunError):
    """Required secrets are not set; the message lists the commands that set them."""

    def __init__(self, config_keys: list[str]) -> None:
        stack = pulumi.get_stack()
        commands = "\n".join(f"  pulumi config set -s {stack} --secret {key}" for key in config_keys)
        super().__init__(f"this stack needs secrets that are not set:\n{commands}")
        self.config_keys = config_keys


def load_secrets(settings: StackSettings) -> Mapping[str, pulumi.Output[str]]:
    """variable -> secret value, for every secret the stack requires or has been given."""
    required = required_secrets(settings)
    # All missing keys at once, before any secret Output exists: one failed `pulumi up`, one fix.
    missing = [
        spec.config_key
        for spec in SECRETS
        if spec.variable in required and pulumi.runtime.get_config(spec.config_key) is None
    ]
    if missing:
        raise MissingSecrets(missing)
    values: dict[str, pulumi.Output[str]] = {}
    for spec in SECRETS:
        value = pulumi.Config(spec.namespace).get_secret(spec.key)
        if value is not None:
            values[spec.variable] = value
    return values
