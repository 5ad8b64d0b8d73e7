"""Powertools logging and metrics shared by the entry points.

No event is ever logged (transcripts and phone numbers are personal data); correlation ids come
from the API Gateway request id. Metrics go out as CloudWatch EMF lines.
"""

from aws_lambda_powertools import Logger, Metrics

from agentic_memory.log_privacy import keep_third_party_logs_quiet

NAMESPACE = "AgenticMemory"
# Configuration of loggers in memory only (no I/O): safe at import, and in force before any handler runs.
keep_third_party_logs_quiet()


def logger_for(service: str) -> Logger:
    return Logger(service=service, log_uncaught_exceptions=True)


def metrics_for(service: str) -> Metrics:
    return Metrics(namespace=NAMESPACE, service=service)
