"""Where alarms go (one SNS topic per stack) and the one way alarms are built here.

Every alarm notifies the topic when it fires and when it recovers, and treats missing data as fine:
a quiet stack (no calls at night) must not page anyone.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

COMPONENT_TYPE = "agentic-memory:operations:AlarmTopic"


@dataclass(frozen=True)
class AlarmTopicArgs:
    topic_name: str
    email: str | None = None


class AlarmTopic(pulumi.ComponentResource):
    def __init__(self, name: str, args: AlarmTopicArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Not KMS-encrypted on purpose: CloudWatch cannot publish to a topic under the aws/sns key, and
        # alarm notifications carry metric names, never call data.
        self.topic = aws.sns.Topic(name, name=args.topic_name, opts=child)
        self.arn = self.topic.arn
        if args.email:
            # Stays "pending confirmation" until the recipient clicks the link AWS mails.
            aws.sns.TopicSubscription(
                f"{name}-email", topic=self.topic.arn, protocol="email", endpoint=args.email, opts=child
            )
        self.register_outputs({"arn": self.arn})


@dataclass(frozen=True)
class Threshold:
    """A metric above (or at) a value for long enough."""

    value: float
    statistic: str | None = "Sum"
    extended_statistic: str | None = None
    comparison: str = "GreaterThanOrEqualToThreshold"
    period_seconds: int = 300
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None


def metric_alarm(
    resource_name: str,
    *,
    alarm_name: str,
    description: str,
    namespace: str,
    metric_name: str,
    dimensions: Mapping[str, pulumi.Input[str]],
    threshold: Threshold,
    topic_arn: pulumi.Input[str],
    parent: pulumi.Resource,
) -> aws.cloudwatch.MetricAlarm:
    return aws.cloudwatch.MetricAlarm(
        resource_name,
        name=alarm_name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric_name,
        dimensions=dict(dimensions),
        statistic=threshold.statistic,
        extended_statistic=threshold.extended_statistic,
        comparison_operator=threshold.comparison,
        threshold=threshold.value,
        period=threshold.period_seconds,
        evaluation_periods=threshold.evaluation_periods,
        datapoints_to_alarm=threshold.datapoints_to_alarm,
        treat_missing_data="notBreaching",
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        opts=pulumi.ResourceOptions(parent=parent),
    )
