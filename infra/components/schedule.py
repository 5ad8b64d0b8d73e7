"""A function run on a schedule: an EventBridge rule, its target (the function's ``live`` alias) and
the one permission that lets that rule, and nothing else, invoke it."""

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.service_function import ALIAS_NAME, ServiceFunction

COMPONENT_TYPE = "agentic-memory:compute:Schedule"


@dataclass(frozen=True)
class ScheduleArgs:
    rule_name: str
    # An EventBridge schedule expression, e.g. "rate(1 day)".
    expression: str
    function: ServiceFunction


class Schedule(pulumi.ComponentResource):
    def __init__(self, name: str, args: ScheduleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            name=args.rule_name,
            description=f"Invokes {args.rule_name} at {args.expression}",
            schedule_expression=args.expression,
            opts=child,
        )
        self.permission = aws.lambda_.Permission(
            f"{name}-invoke",
            action="lambda:InvokeFunction",
            function=args.function.name,
            qualifier=ALIAS_NAME,
            principal="events.amazonaws.com",
            source_arn=self.rule.arn,
            opts=child,
        )
        self.target = aws.cloudwatch.EventTarget(
            f"{name}-target",
            rule=self.rule.name,
            arn=args.function.alias_arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.permission]),
        )
        self.register_outputs({"rule_arn": self.rule.arn})
