"""The stack's dead-letter queue: SQS messages of S3 notifications that processing gave up on."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

WAIT_SECONDS = 1
BATCH = 10


@dataclass(frozen=True)
class ParkedMessage:
    receipt_handle: str
    keys: list[str]


class SqsDeadLetterQueue:
    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # only the operator CLI needs SQS

            self._client = boto3.client("sqs")
        return self._client

    def messages(self, limit: int = 1000) -> Iterator[ParkedMessage]:
        """Receive up to ``limit`` messages; each stays invisible until deleted or its timeout ends."""
        received = 0
        while received < limit:
            batch = self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(BATCH, limit - received),
                WaitTimeSeconds=WAIT_SECONDS,
            ).get("Messages", [])
            if not batch:
                return
            for message in batch:
                received += 1
                yield ParkedMessage(receipt_handle=message["ReceiptHandle"], keys=keys_of(message["Body"]))

    def delete(self, message: ParkedMessage) -> None:
        self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle)


def keys_of(body: str) -> list[str]:
    try:
        notification = json.loads(body)
    except ValueError:
        return []
    return [unquote_plus(r["s3"]["object"]["key"]) for r in notification.get("Records", []) if "s3" in r]
