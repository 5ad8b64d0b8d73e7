"""The post-call processing queue: S3 ``ObjectCreated`` notifications in, the processor out.

A message that keeps failing moves to the dead-letter queue after ``maxReceiveCount`` receives and
raises an alarm; the raw event stays in the archive, so a parked message can be replayed. The
processor reports partial batch failures, so one bad event does not retry its neighbours.
"""

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.alarms import Threshold, metric_alarm
from infra.iam import policy_document
from infra.settings import QueueSettings

COMPONENT_TYPE = "agentic-memory:processing:ProcessingQueue"
SECONDS_PER_DAY = 86_400
# AWS: a queue's visibility timeout should be at least six times its consumer's timeout, so a
# batch still being retried inside the function is not handed to a second consumer meanwhile.
VISIBILITY_TIMEOUT_FACTOR = 6


@dataclass(frozen=True)
class ProcessingQueueArgs:
    queue_name: str
    consumer_timeout_seconds: int
    settings: QueueSettings
    source_bucket_arn: pulumi.Input[str]
    source_account_id: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]


class ProcessingQueue(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ProcessingQueueArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self._name = name
        self._settings = args.settings
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings

        self.dead_letter_queue = aws.sqs.Queue(
            f"{name}-dlq",
            name=f"{args.queue_name}-dlq",
            message_retention_seconds=settings.dead_letter_retention_days * SECONDS_PER_DAY,
            sqs_managed_sse_enabled=True,
            opts=child,
        )
        self.queue = aws.sqs.Queue(
            name,
            name=args.queue_name,
            visibility_timeout_seconds=VISIBILITY_TIMEOUT_FACTOR * args.consumer_timeout_seconds,
            message_retention_seconds=settings.message_retention_days * SECONDS_PER_DAY,
            # SSE-SQS, not SSE-KMS: S3 event notifications cannot use the aws/sqs KMS key.
            sqs_managed_sse_enabled=True,
            redrive_policy=pulumi.Output.json_dumps(
                {
                    "deadLetterTargetArn": self.dead_letter_queue.arn,
                    "maxReceiveCount": settings.max_receive_count,
                }
            ),
            opts=child,
        )
        self.policy = aws.sqs.QueuePolicy(
            f"{name}-accepts-archive-events",
            queue_url=self.queue.url,
            policy=policy_document(
                [
                    {
                        "Sid": "ArchiveBucketNotifications",
                        "Effect": "Allow",
                        "Principal": {"Service": "s3.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": self.queue.arn,
                        # Both: a deleted bucket's name can be claimed by another account.
                        "Condition": {
                            "ArnEquals": {"aws:SourceArn": args.source_bucket_arn},
                            "StringEquals": {"aws:SourceAccount": args.source_account_id},
                        },
                    }
                ]
            ),
            opts=child,
        )
        self.dead_letter_alarm = metric_alarm(
            f"{name}-dlq-not-empty",
            alarm_name=f"{args.queue_name}-dlq-not-empty",
            description="Post-call events failed processing repeatedly and are parked: inspect and redrive.",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": self.dead_letter_queue.name},
            threshold=Threshold(value=0, statistic="Maximum", comparison="GreaterThanThreshold"),
            topic_arn=args.alarm_topic_arn,
            parent=self,
        )
        self.arn = self.queue.arn
        self.register_outputs(
            {"queue_name": self.queue.name, "dead_letter_queue_name": self.dead_letter_queue.name}
        )

    def deliver_to(
        self, function_arn: pulumi.Input[str], depends_on: list[pulumi.Resource]
    ) -> aws.lambda_.EventSourceMapping:
        """Drive ``function_arn`` (an alias ARN) from the queue; ``depends_on`` must hold its permissions,
        which Lambda checks when the mapping is created."""
        settings = self._settings
        return aws.lambda_.EventSourceMapping(
            f"{self._name}-to-processor",
            event_source_arn=self.queue.arn,
            function_name=function_arn,
            batch_size=settings.batch_size,
            maximum_batching_window_in_seconds=settings.maximum_batching_window_seconds,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(
                maximum_concurrency=settings.maximum_concurrency
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )
