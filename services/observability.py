"""Powertools logging and metrics shared by the entry points.

No event is ever logged (transcripts and phone numbers are personal data); correlation ids come
from the API Gateway request id (in the processor, the SQS message id). Metrics go out as CloudWatch
EMF lines.

The domain and its adapters log through plain ``logging`` loggers (they know nothing of Powertools).
During an invocation their lines go out through the Powertools Logger of the entry point being
invoked (``logs_through``), so they are its JSON lines, with its correlation id and appended keys
(``conversation_id``, ``agent_id``…) and a ``logger`` key naming the module that wrote them.
"""

import logging
from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics

from agentic_memory.log_privacy import keep_third_party_logs_quiet

NAMESPACE = "AgenticMemory"
# The plain loggers whose lines belong to the invocation that writes them: the product's domain and
# adapters, and the entry points' own helpers (services.http_edge). Their children, created later by
# lazily imported adapters, propagate to them.
INVOCATION_LOGGERS = ("agentic_memory", "services")
Handler = TypeVar("Handler", bound=Callable[..., Any])
_invocation_logger: ContextVar[Logger | None] = ContextVar("invocation_logger", default=None)


class _ThroughInvocationLogger(logging.Handler):
    """Hands a record to the handlers of the Powertools Logger of the invocation running in this context.

    What Powertools' ``copy_config_to_registered_loggers`` does, but chosen per invocation: that
    utility gives a plain logger the handlers of one Logger, and the local runtime runs every entry
    point in one process, each with its own Logger and keys. The Logger's level (``LOG_LEVEL``) applies
    as it does to its own lines. Outside an invocation (imports, the operator CLI, the runtime's own
    threads) a record goes to the root logger's handlers, where it went before.
    """

    def handle(self, record: logging.LogRecord) -> bool:
        invocation = _invocation_logger.get()
        if invocation is None:
            logging.getLogger().callHandlers(record)
            return True
        if record.levelno >= invocation.log_level:
            record.logger = record.name  # only this record's formatter reads it: propagation stops here
            for handler in invocation.handlers:
                if record.levelno >= handler.level:
                    handler.handle(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.handle(record)


def _route_plain_loggers_through_invocations() -> None:
    for name in INVOCATION_LOGGERS:
        plain = logging.getLogger(name)
        if not any(isinstance(handler, _ThroughInvocationLogger) for handler in plain.handlers):
            plain.addHandler(_ThroughInvocationLogger())
        plain.propagate = False  # one line per record: never also the root's


# Configuration of loggers in memory only (no I/O): safe at import, and in force before any handler runs.
keep_third_party_logs_quiet()
_route_plain_loggers_through_invocations()


def logger_for(service: str) -> Logger:
    return Logger(service=service, log_uncaught_exceptions=True)


def metrics_for(service: str) -> Metrics:
    return Metrics(namespace=NAMESPACE, service=service)


def logs_through(logger: Logger) -> Callable[[Handler], Handler]:
    """Decorator for a Lambda handler, under ``logger.inject_lambda_context``: while it runs, the plain
    loggers' lines (``INVOCATION_LOGGERS``), in this thread and in work it hands to
    ``agentic_memory.background``, go out through ``logger``."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        def invocation(*args: Any, **kwargs: Any) -> Any:
            token = _invocation_logger.set(logger)
            try:
                return handler(*args, **kwargs)
            finally:
                _invocation_logger.reset(token)

        return invocation  # type: ignore[return-value]

    return decorate


def entry_point(
    logger: Logger, metrics: Metrics, correlation_id_path: str | None = None
) -> Callable[[Handler], Handler]:
    """What every entry point wears, outermost first: Powertools' Lambda context on ``logger`` (the
    correlation id read from the event at ``correlation_id_path``, appended keys cleared each
    invocation), the domain's log lines through ``logger`` (``logs_through``) and ``metrics`` flushed
    as EMF when the handler returns."""

    def decorate(handler: Handler) -> Handler:
        inject = logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)
        return inject(logs_through(logger)(metrics.log_metrics(handler)))  # type: ignore[return-value]

    return decorate
