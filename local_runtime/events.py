"""The AWS events the local runtime builds: API Gateway HTTP API payload 2.0, SQS-wrapped S3
notifications and EventBridge schedules, shaped as AWS delivers them."""

import base64
import json
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote_plus

# The account and region of local ARNs (local_runtime/lambda_context.py names functions the same way).
LOCAL_ACCOUNT = "000000000000"
LOCAL_REGION = "local"


def http_api_event(
    method: str,
    path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    merged: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        # API Gateway joins repeated headers with commas, as HTTP allows.
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    try:
        text, is_base64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(body).decode("ascii"), True
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT,
            "apiId": "local",
            "domainName": merged.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = text
    return event


def sqs_event_for_object(
    bucket: str, key: str, attempt: int = 1, receipt_handle: str | None = None
) -> dict[str, Any]:
    """One SQS message carrying the S3 ``ObjectCreated`` notification of ``key``."""
    notification = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "eventTime": datetime.now(UTC).isoformat(),
                "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key, safe="/")}},
            }
        ]
    }
    return sqs_event_for_message(json.dumps(notification), attempt, receipt_handle)


def sqs_event_for_message(body: str, attempt: int = 1, receipt_handle: str | None = None) -> dict[str, Any]:
    """One SQS message with ``body``, on its ``attempt``-th receive. ``receipt_handle`` names this
    delivery (a fresh one when None), as SQS's does: what ``retry_later`` is given back."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": receipt_handle or new_receipt_handle(),
                "body": body,
                "attributes": {"ApproximateReceiveCount": str(attempt)},
                "eventSource": "aws:sqs",
            }
        ]
    }


def new_receipt_handle() -> str:
    return f"local-{uuid.uuid4().hex}"


def scheduled_event(rule_name: str) -> dict[str, Any]:
    """What an EventBridge schedule (``rate(…)`` rule ``rule_name``) sends the function it targets."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": LOCAL_REGION,
        "resources": [f"arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }
