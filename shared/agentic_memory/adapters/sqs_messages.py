"""The processing queue (SQS) as ``DelayedMessages``: the processor's messages to itself.

boto3 is imported, and the client built, on the first message: most processor invocations send none.
"""

import threading
from typing import Any

# SQS accepts DelaySeconds from 0 to 900 (15 minutes).
MAX_DELAY_SECONDS = 900


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
