"""One Lambda function with everything that belongs to it alone: its log group (with retention), its
own role and least-privilege policy, a published version behind the ``live`` alias, optional
provisioned concurrency on that alias, and its alarms (errors, p95 duration over budget).

Callers (API Gateway, the SQS mapping) always invoke the alias: each ``pulumi up`` publishes a
version and moves ``live`` to it in one step, and provisioned concurrency stays attached to the
alias rather than to ``$LATEST``, where Lambda does not allow it.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra import iam
from infra.components.alarms import Threshold, metric_alarm
from infra.settings import FunctionSettings

COMPONENT_TYPE = "agentic-memory:compute:ServiceFunction"
ALIAS_NAME = "live"
RUNTIME = "python3.12"
# Lambda's advanced logging controls name the level WARN, Python's logging WARNING.
_LAMBDA_LOG_LEVELS = {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARN", "ERROR": "ERROR"}


@dataclass(frozen=True)
class ServiceFunctionArgs:
    function_name: str
    handler: str
    description: str
    code: pulumi.Archive
    architecture: str
    settings: FunctionSettings
    log_retention_days: int
    log_level: str
    alarm_topic_arn: pulumi.Input[str]
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Everything the function may do besides writing its own logs.
    statements: Sequence[iam.Statement] = ()


class ServiceFunction(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ServiceFunctionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings

        # Created before the function, so Lambda never auto-creates it without a retention.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{args.function_name}",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            description=f"Runs {args.function_name}, and nothing else",
            assume_role_policy=iam.assume_role_policy("lambda.amazonaws.com"),
            opts=child,
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-permissions",
            role=self.role.id,
            policy=iam.policy_document([iam.log_writing(self.log_group.arn), *args.statements]),
            opts=child,
        )
        self.function = aws.lambda_.Function(
            name,
            name=args.function_name,
            description=args.description,
            role=self.role.arn,
            runtime=RUNTIME,
            architectures=[args.architecture],
            handler=args.handler,
            code=args.code,
            memory_size=settings.memory_mb,
            timeout=settings.timeout_seconds,
            publish=True,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(args.environment)),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON",
                log_group=self.log_group.name,
                application_log_level=_LAMBDA_LOG_LEVELS[args.log_level],
                # INFO keeps the platform's REPORT lines (Init Duration) that cold starts are judged by.
                system_log_level="INFO",
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, self.role_policy]),
        )
        self.alias = aws.lambda_.Alias(
            f"{name}-{ALIAS_NAME}",
            name=ALIAS_NAME,
            function_name=self.function.name,
            function_version=self.function.version,
            opts=child,
        )
        self.provisioned_concurrency = (
            aws.lambda_.ProvisionedConcurrencyConfig(
                f"{name}-provisioned-concurrency",
                function_name=self.function.name,
                qualifier=self.alias.name,
                provisioned_concurrent_executions=settings.provisioned_concurrency,
                opts=child,
            )
            if settings.provisioned_concurrency
            else None
        )
        self._alarms(name, args)

        self.name = self.function.name
        self.alias_arn = self.alias.arn
        self.invoke_arn = self.alias.invoke_arn
        self.register_outputs({"name": self.name, "alias_arn": self.alias_arn})

    def _alarms(self, name: str, args: ServiceFunctionArgs) -> None:
        dimensions = {"FunctionName": self.function.name}
        self.error_alarm = metric_alarm(
            f"{name}-errors",
            alarm_name=f"{args.function_name}-errors",
            description=f"{args.function_name} raised errors (uncaught exceptions, timeouts, crashes).",
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions=dimensions,
            threshold=Threshold(value=1),
            topic_arn=args.alarm_topic_arn,
            parent=self,
        )
        budget = args.settings.p95_budget_ms
        self.latency_alarm = metric_alarm(
            f"{name}-p95-over-budget",
            alarm_name=f"{args.function_name}-p95-over-budget",
            description=f"{args.function_name}: p95 duration over its {budget} ms budget, 10 of 15 minutes.",
            namespace="AWS/Lambda",
            metric_name="Duration",
            dimensions=dimensions,
            # Two of three 5-minute periods: one slow burst (a cold-start wave) does not page anyone.
            threshold=Threshold(
                value=budget,
                statistic=None,
                extended_statistic="p95",
                comparison="GreaterThanThreshold",
                evaluation_periods=3,
                datapoints_to_alarm=2,
            ),
            topic_arn=args.alarm_topic_arn,
            parent=self,
        )
