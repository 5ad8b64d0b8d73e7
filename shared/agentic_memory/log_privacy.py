"""Logs never carry personal data: libraries that log request bodies or memory text at DEBUG (Mem0
logs every memory it stores, botocore every request) are held at WARNING whatever LOG_LEVEL says."""

import logging

THIRD_PARTY_LOGGERS = (
    "mem0",
    "qdrant_client",
    "httpx",
    "httpcore",
    "urllib3",
    "botocore",
    "boto3",
    "s3transfer",
    "openai",
    "posthog",
    # The local runtime's server: start and stop lines only, which the runtime's banner already says.
    "uvicorn",
)


def keep_third_party_logs_quiet() -> None:
    for name in THIRD_PARTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
