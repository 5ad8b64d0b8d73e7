"""The processing queue as DelayedMessages: a real SendMessage (moto) with the delay SQS accepts."""

import boto3
from moto import mock_aws

from agentic_memory.adapters.sqs_messages import SqsDelayedMessages


class RecordingClient:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def send_message(self, **kwargs: object) -> dict:
        self.calls.append(kwargs)
        return {"MessageId": "m1"}


def test_a_message_is_sent_to_the_queue_delayed():
    with mock_aws():
        # Given a queue
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="post-call-events")["QueueUrl"]
        # When a check is sent 600 s ahead
        SqsDelayedMessages(url, sqs).send('{"type": "fetch_audio_if_missing"}', 600)
        # Then it waits in the queue, delayed, not yet receivable
        counts = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessages"],
        )["Attributes"]
        assert counts == {"ApproximateNumberOfMessagesDelayed": "1", "ApproximateNumberOfMessages": "0"}


def test_a_delay_beyond_what_sqs_accepts_is_sent_as_its_maximum():
    client = RecordingClient()
    SqsDelayedMessages("https://sqs.example/q", client).send("{}", 3600)
    SqsDelayedMessages("https://sqs.example/q", client).send("{}", -5)
    assert [call["DelaySeconds"] for call in client.calls] == [900, 0]
    assert client.calls[0] == {"QueueUrl": "https://sqs.example/q", "MessageBody": "{}", "DelaySeconds": 900}
