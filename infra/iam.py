"""IAM policy documents as data. Built with ``Output.json_dumps`` rather than the
``get_policy_document`` invoke: no provider round trip, and the offline mocks see the same JSON.

Every Allow names its actions and resources exactly; the tests reject ``*`` in either.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pulumi

from infra.functions import ArchiveAccess

Statement = Mapping[str, Any]
IAM_VERSION = "2012-10-17"


def policy_document(statements: Iterable[Statement]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": IAM_VERSION, "Statement": list(statements)})


def assume_role_policy(service: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": IAM_VERSION, "Statement": [statement]})


def log_writing(log_group_arn: pulumi.Input[str]) -> Statement:
    # The log group is created by the stack (with its retention), so CreateLogGroup is not granted.
    return {
        "Sid": "WriteOwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": pulumi.Output.concat(log_group_arn, ":*"),
    }


def archive_access(bucket_arn: pulumi.Input[str], access: ArchiveAccess) -> list[Statement]:
    statements: list[Statement] = []
    if access.read:
        statements.append(_objects("ReadArchivedEvents", "s3:GetObject", bucket_arn, access.read))
    if access.write:
        statements.append(_objects("WriteArchive", "s3:PutObject", bucket_arn, access.write))
    if access.delete:
        statements.append(_objects("DeleteArchived", "s3:DeleteObject", bucket_arn, access.delete))
    if access.list:
        statements.append(
            {
                "Sid": "ListOwnPrefixes",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in access.list]}},
            }
        )
    return statements


def _objects(sid: str, action: str, bucket_arn: pulumi.Input[str], prefixes: Sequence[str]) -> Statement:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": action,
        "Resource": [pulumi.Output.concat(bucket_arn, "/", prefix, "*") for prefix in prefixes],
    }


def queue_consumption(queue_arn: pulumi.Input[str]) -> Statement:
    # What the SQS event source mapping does on the function's behalf.
    return {
        "Sid": "ConsumeEventQueue",
        "Effect": "Allow",
        "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        "Resource": queue_arn,
    }


def queue_sending(queue_arn: pulumi.Input[str]) -> Statement:
    # The processor's delayed "fetch audio if still missing" messages to itself (audio_checks), and
    # the dead letters it sends back (queue_retries).
    return {
        "Sid": "SendOwnDelayedChecks",
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
    }


def queue_retries(queue_arn: pulumi.Input[str], dead_letter_queue_arn: pulumi.Input[str]) -> list[Statement]:
    """A failed message held for the retry schedule (ChangeMessageVisibility on the queue), and the
    scheduled re-drive: the dead letters received and deleted, sent back with SendMessage
    (``queue_sending``)."""
    return [
        {
            "Sid": "ScheduleOwnRetries",
            "Effect": "Allow",
            "Action": "sqs:ChangeMessageVisibility",
            "Resource": queue_arn,
        },
        {
            "Sid": "RedriveOwnDeadLetters",
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
            "Resource": dead_letter_queue_arn,
        },
    ]


def secret_reading(
    parameter_arns: Sequence[pulumi.Input[str]], key_arn: pulumi.Input[str], region: str
) -> list[Statement]:
    """GetParameters on exactly these parameters; Decrypt on the stack's key, only through SSM and only
    for these parameters (SSM puts the parameter ARN in the KMS encryption context)."""
    return [
        {
            "Sid": "ReadOwnSecretParameters",
            "Effect": "Allow",
            "Action": "ssm:GetParameters",
            "Resource": list(parameter_arns),
        },
        {
            "Sid": "DecryptOwnSecretParameters",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": f"ssm.{region}.amazonaws.com",
                    "kms:EncryptionContext:PARAMETER_ARN": list(parameter_arns),
                }
            },
        },
    ]
