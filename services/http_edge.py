"""API Gateway HTTP API (payload 2.0) events in, Lambda proxy responses out.

Domain errors become HTTP here and only here: ``{"error": code, "detail": text}`` with the status
and code that ``services.error_answers`` gives the error's class.
"""

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel

from agentic_memory.errors import BadRequest, ConfigurationError, DomainError, PayloadTooLarge
from services.error_answers import UNHANDLED, answer_for
from services.observability import Handler, entry_point

# Lambda's synchronous invocation limit is the real request cap behind API Gateway.
MAX_BODY_BYTES = 6 * 1024 * 1024

log = logging.getLogger(__name__)


class HttpRequest(BaseModel):
    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json_body(self) -> Any:
        if not self.body.strip():
            raise BadRequest("the request has no body")
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
            raise BadRequest(f"the body is not valid JSON: {_brief(error)}") from None


def _brief(error: BaseException) -> str:
    return str(error)[:200] if not isinstance(error, RecursionError) else "it is nested too deeply"


def request_from_event(event: Mapping[str, Any]) -> HttpRequest:
    """The HTTP request inside a payload 2.0 event (headers lower-cased, body decoded to bytes)."""
    if not isinstance(event, Mapping) or "requestContext" not in event:
        raise BadRequest("not an API Gateway HTTP API event")
    http = event["requestContext"].get("http", {})
    raw_body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw_body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("the body is not valid base64") from None
    else:
        body = raw_body.encode("utf-8", errors="surrogateescape")
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body exceeds {MAX_BODY_BYTES} bytes")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return HttpRequest(
        method=str(http.get("method", "GET")).upper(),
        path=str(http.get("path") or event.get("rawPath") or "/"),
        headers=headers,
        query={str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()},
        body=body,
    )


def json_response(status: int, body: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
    }


def error_response(error: DomainError) -> dict[str, Any]:
    answer = answer_for(error)
    return json_response(answer.status, {"error": answer.code, "detail": error.detail})


def answer_domain_errors(handle: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Decorator for entry points: a DomainError becomes its JSON error response.

    Anything else is a bug or an outage: it is logged and answered 500 with a JSON error, so the
    caller gets a well-formed answer (and ElevenLabs retries a post-call event).
    """

    def wrapper(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return handle(*args, **kwargs)
        except DomainError as error:
            return error_response(error)
        except ConfigurationError as error:
            # The function cannot start: say which setting to fix (names only, never values).
            log.error("the function is misconfigured: %s", error)
            answer = answer_for(error)
            return json_response(answer.status, {"error": answer.code, "detail": str(error)})
        except Exception:
            log.exception("unhandled error in %s", handle.__name__)
            return json_response(
                UNHANDLED.status, {"error": UNHANDLED.code, "detail": "the request could not be handled"}
            )

    wrapper.__name__ = handle.__name__
    wrapper.__doc__ = handle.__doc__
    return wrapper


def http_entry_point(logger: Logger, metrics: Metrics) -> Callable[[Handler], Handler]:
    """``entry_point`` for a handler behind the API Gateway HTTP API: the correlation id is the request
    id, and errors are answered as JSON (``answer_domain_errors``), innermost."""

    def decorate(handler: Handler) -> Handler:
        answered: Handler = answer_domain_errors(handler)  # type: ignore[assignment]
        return entry_point(logger, metrics, correlation_paths.API_GATEWAY_HTTP)(answered)

    return decorate
