"""The events the functions receive, shaped as the AWS services deliver them.

- **API Gateway** (HTTP API, payload 2.0): built by ``local_runtime.events.http_api_event``,
  the builder the local runtime uses, so the box and ``agentic-memory serve`` agree on the shape.
- **The SQS event source mapping**: ``EventSourceMapping.drain`` polls the processing queue with the
  processor role's credentials (the mapping polls as the function's execution role, which is why that
  role holds sqs:ReceiveMessage, DeleteMessage and GetQueueAttributes), hands the processor batches of
  at most the mapping's batch size as Lambda's SQS event, deletes the records that succeeded and
  leaves the ones named in ``batchItemFailures`` (or all of them, if the invocation failed) to
  become visible again. The queue's redrive policy does the rest, in moto, as in SQS.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from box_aws import DeployedStack
from box_lambda import ExecutionEnvironment, InvocationFailed

from local_runtime.events import http_api_event

# The processor's user receives; "All" system attributes give ApproximateReceiveCount and friends.
_SYSTEM_ATTRIBUTES = ["All"]
# Enough for any scenario here; a queue that never drains is a defect, not a reason to loop forever.
MAX_POLLS = 200


def api_request(
    method: str,
    path: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    query: str = "",
) -> dict[str, Any]:
    defaults = {"content-type": "application/json", "user-agent": "ElevenLabs/1.0"}
    merged = {**defaults, **{name.lower(): value for name, value in (headers or {}).items()}}
    return http_api_event(method, path, query, list(merged.items()), body, source_ip="34.67.146.145")


def response_json(response: Mapping[str, Any]) -> Any:
    return json.loads(response["body"])


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One message as a record of Lambda's SQS event."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", ""),
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "0"),
        },
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


@dataclass
class Delivery:
    """What one ``drain`` did: each invocation's records, and which of them failed."""

    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    failed_ids: list[str] = field(default_factory=list)
    deleted: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def records(self) -> list[dict[str, Any]]:
        return [record for batch in self.batches for record in batch]

    def notified(self) -> list[str]:
        """What each delivered record announced: the object keys of its S3 notification, or S3's test
        event ("s3:TestEvent"), in delivery order."""
        announced: list[str] = []
        for record in self.records:
            notification = json.loads(record["body"])
            if notification.get("Event") == "s3:TestEvent":
                announced.append("s3:TestEvent")
            announced += [unquote_plus(r["s3"]["object"]["key"]) for r in notification.get("Records", [])]
        return announced

    def failures(self) -> str:
        """The failed records' bodies and the invocation errors, for an assertion message."""
        failed = [r["body"][:300] for r in self.records if r["messageId"] in self.failed_ids]
        return "\n".join(["failed records:", *failed, "invocation errors:", *self.errors])

    def receive_counts(self, predicate: Any) -> list[int]:
        """ApproximateReceiveCount of every delivered record whose body satisfies ``predicate``."""
        return [int(r["attributes"]["ApproximateReceiveCount"]) for r in self.records if predicate(r["body"])]


class EventSourceMapping:
    def __init__(self, deployed: DeployedStack, processor: ExecutionEnvironment) -> None:
        self.deployed = deployed
        self.processor = processor
        self.sqs = deployed.client("sqs", deployed.plan.processor.key)
        self.batch_size = deployed.plan.mapping.batch_size
        self.reports_item_failures = "ReportBatchItemFailures" in deployed.plan.mapping.response_types

    def drain(self) -> Delivery:
        """Deliver until a receive comes back empty (visible messages only: the box's queue hides a
        received message for 0 s, so a failed one is back at the next poll)."""
        delivery = Delivery()
        for _ in range(MAX_POLLS):
            messages = self.sqs.receive_message(
                QueueUrl=self.deployed.queue_url,
                MaxNumberOfMessages=self.batch_size,
                MessageSystemAttributeNames=_SYSTEM_ATTRIBUTES,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not messages:
                return delivery
            self._deliver(messages, delivery)
        raise AssertionError(
            f"the queue did not drain in {MAX_POLLS} polls: {len(delivery.records)} deliveries"
        )

    def _deliver(self, messages: Iterable[Mapping[str, Any]], delivery: Delivery) -> None:
        plan = self.deployed.plan
        batch = [sqs_record(message, self.deployed.queue_arn, plan.region) for message in messages]
        delivery.batches.append(batch)
        try:
            answer = self.processor.invoke({"Records": batch})
            failed = {item["itemIdentifier"] for item in (answer or {}).get("batchItemFailures", [])}
            if not self.reports_item_failures:
                failed = set()  # without ReportBatchItemFailures, a returned batch counts as done
        except InvocationFailed as error:
            delivery.errors.append(str(error))
            failed = {record["messageId"] for record in batch}
        delivery.failed_ids += sorted(failed)
        for record in batch:
            if record["messageId"] not in failed:
                self.sqs.delete_message(
                    QueueUrl=self.deployed.queue_url, ReceiptHandle=record["receiptHandle"]
                )
                delivery.deleted += 1
