"""The stack's secrets as SSM SecureString parameters under one KMS key of the stack's own.

A customer-managed key (instead of the account's aws/ssm key) lets each function's role be granted
``kms:Decrypt`` on one exact key ARN, limited to SSM and to its own parameters. The key policy is
the AWS default (the account's IAM policies decide), so no policy text is needed here.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.secret_config import SECRETS_BY_VARIABLE

COMPONENT_TYPE = "agentic-memory:security:SecretParameters"
# Gives a mistaken `pulumi destroy` a month to be noticed and the key restored.
KEY_DELETION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class SecretParametersArgs:
    parameter_path: str  # e.g. /agentic-memory/dev/
    key_alias: str  # e.g. alias/agentic-memory-dev-secrets
    values: Mapping[str, pulumi.Output[str]]  # secret variable -> secret value


class SecretParameters(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: SecretParametersArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts the SSM parameters under {args.parameter_path}",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            opts=child,
        )
        aws.kms.Alias(f"{name}-key-alias", name=args.key_alias, target_key_id=self.key.key_id, opts=child)

        self.names: dict[str, str] = {}
        self.parameters: dict[str, aws.ssm.Parameter] = {}
        for variable, value in sorted(args.values.items()):
            spec = SECRETS_BY_VARIABLE[variable]
            self.names[variable] = f"{args.parameter_path}{spec.parameter}"
            self.parameters[variable] = aws.ssm.Parameter(
                f"{name}-{spec.parameter}",
                name=self.names[variable],
                type="SecureString",
                key_id=self.key.arn,
                value=value,
                description=f"{variable}: set with `pulumi config set --secret {spec.config_key}`",
                opts=child,
            )
        self.register_outputs({"parameter_names": dict(self.names)})

    def arns(self, variables: tuple[str, ...]) -> list[pulumi.Output[str]]:
        return [self.parameters[v].arn for v in variables if v in self.parameters]
