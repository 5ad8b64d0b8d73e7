"""Powertools logging and metrics shared by the entry points.

No event is ever logged (transcripts and phone numbers are personal data); correlation ids come
from the API Gateway request id. Metrics go out as CloudWatch EMF lines.
"""

from aws_lambda_powertools import Logger, Metrics

NAMESPACE = "AgenticMemory"


def logger_for(service: str) -> Logger:
    return Logger(service=service, log_uncaught_exceptions=True)


def metrics_for(service: str) -> Metrics:
    return Metrics(namespace=NAMESPACE, service=service)
