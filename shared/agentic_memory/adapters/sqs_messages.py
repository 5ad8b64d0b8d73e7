"""The processing queue (SQS) as ``DelayedMessages`` (the processor's messages to itself) and as
``RetryQueue`` (retries on a schedule, the dead letters' return).

boto3 is imported, and the client built, on the first use: most processor invocations need none.
"""

import math
import threading
from typing import Any

from ..ports import Redriven

# SQS accepts DelaySeconds from 0 to 900 (15 minutes).
MAX_DELAY_SECONDS = 900
# A dead letter a re-drive keeps (re-driven too often) stays hidden this long: one run sees it once.
REDRIVE_VISIBILITY_SECONDS = 600


class SqsDelayedMessages:
    def __init__(self, queue_url: str, client: Any = None) -> None:
        self._queue_url = queue_url
        self._client = client
        self._lock = threading.Lock()

    def send(self, body: str, delay_seconds: int) -> None:
        """``SendMessage`` with ``DelaySeconds`` clamped to what SQS accepts; botocore errors propagate
        (the message that asked for it is then retried by the queue)."""
        delay = min(max(int(delay_seconds), 0), MAX_DELAY_SECONDS)
        self._sqs().send_message(QueueUrl=self._queue_url, MessageBody=body, DelaySeconds=delay)

    def _sqs(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3

                self._client = boto3.client("sqs")
            return self._client


class SqsRetryQueue:
    """The processing queue and its dead-letter queue as ``RetryQueue``: a failed message's next
    attempt (``ChangeMessageVisibility``) and the dead letters' return.

    The return is ReceiveMessage from the dead-letter queue, SendMessage of the same body to the
    queue (with ``redrives`` + 1 in a message attribute), DeleteMessage: what SQS's own
    StartMessageMoveTask does, but able to keep the messages re-driven ``max_redrives`` times already
    and testable against moto, which has no StartMessageMoveTask.
    """

    REDRIVES_ATTRIBUTE = "redrives"
    # Each receive is at most 10 messages; a bound, so that a scheduled run always ends.
    MAX_RECEIVES = 100

    def __init__(self, queue_url: str, dead_letter_queue_url: str, client: Any = None) -> None:
        self._queue_url = queue_url
        self._dead_letter_queue_url = dead_letter_queue_url
        self._client = client
        self._lock = threading.Lock()

    def retry_later(self, receipt_handle: str, delay_seconds: float) -> None:
        self._sqs().change_message_visibility(
            QueueUrl=self._queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=math.ceil(delay_seconds)
        )

    def redrive_dead_letters(self, max_redrives: int) -> Redriven:
        sqs, moved, kept = self._sqs(), 0, 0
        for _ in range(self.MAX_RECEIVES):
            messages = sqs.receive_message(
                QueueUrl=self._dead_letter_queue_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=[self.REDRIVES_ATTRIBUTE],
                # Hidden while this run handles them; a kept one stays hidden until the next run.
                VisibilityTimeout=REDRIVE_VISIBILITY_SECONDS,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                redrives = self._redrives_of(message)
                if redrives >= max_redrives:
                    kept += 1
                    continue
                sqs.send_message(
                    QueueUrl=self._queue_url,
                    MessageBody=message["Body"],
                    MessageAttributes={
                        self.REDRIVES_ATTRIBUTE: {"DataType": "Number", "StringValue": str(redrives + 1)}
                    },
                )
                sqs.delete_message(
                    QueueUrl=self._dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
                moved += 1
        return Redriven(moved=moved, kept=kept)

    def _redrives_of(self, message: dict[str, Any]) -> int:
        attribute = message.get("MessageAttributes", {}).get(self.REDRIVES_ATTRIBUTE, {})
        try:
            return int(attribute.get("StringValue", "0"))
        except ValueError:
            return 0

    def _sqs(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3

                self._client = boto3.client("sqs")
            return self._client
