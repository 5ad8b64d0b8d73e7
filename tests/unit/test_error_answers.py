"""Errors become HTTP answers in one table at the edge (issue 13, item 4): the domain knows no status code."""

import inspect
import json

import pytest

from agentic_memory import errors
from agentic_memory.adapters.s3_archive import _S3Failure
from agentic_memory.errors import (
    ArchiveUnavailable,
    BadRequest,
    ConfigurationError,
    DomainError,
    MissingCaller,
    PayloadTooLarge,
    Unauthorized,
    UnsafeIdentifier,
    WithheldCaller,
)
from services.error_answers import ANSWERS, UNHANDLED, ErrorAnswer, answer_for
from services.http_edge import answer_domain_errors

DOMAIN_ERRORS = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, DomainError) and cls.__module__ == errors.__name__
]


@pytest.mark.parametrize("error_class", DOMAIN_ERRORS, ids=lambda cls: cls.__name__)
def test_every_domain_error_has_its_own_line_in_the_table(error_class):
    # Given a DomainError class of agentic_memory.errors, then the table names it (not only an ancestor)
    assert error_class in ANSWERS


@pytest.mark.parametrize("error_class", DOMAIN_ERRORS, ids=lambda cls: cls.__name__)
def test_a_domain_error_knows_no_http(error_class):
    # Given a domain error, then it carries its detail and no status or wire code
    error = error_class("what went wrong")
    assert error.detail == "what went wrong"
    assert not hasattr(error, "status")
    assert not hasattr(error, "code")


@pytest.mark.parametrize(
    ("error_class", "status", "code"),
    [
        (DomainError, 400, "bad_request"),
        (BadRequest, 400, "bad_request"),
        (UnsafeIdentifier, 400, "unsafe_identifier"),
        (MissingCaller, 400, "missing_caller"),
        (WithheldCaller, 400, "withheld_caller"),
        (Unauthorized, 401, "unauthorized"),
        (PayloadTooLarge, 413, "payload_too_large"),
        (ArchiveUnavailable, 503, "archive_unavailable"),
        (ConfigurationError, 500, "misconfigured"),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else None,
)
def test_each_error_answers_its_status_and_code(error_class, status, code):
    # Given an error of a listed class, when the edge looks it up, then it answers as before the table
    assert answer_for(error_class("x")) == ErrorAnswer(status, code)
    assert answer_for(error_class) == ErrorAnswer(status, code)


def test_a_subclass_outside_the_table_answers_as_its_nearest_listed_ancestor():
    # Given the S3 archive's own ArchiveUnavailable, then it answers 503 like its parent
    assert answer_for(_S3Failure("S3 PutObject failed: SlowDown (HTTP 503)", "SlowDown")) == ErrorAnswer(
        503, "archive_unavailable"
    )


@pytest.mark.parametrize("error", [ValueError("bug"), KeyError("k"), LookupError("l")])
def test_anything_else_is_an_internal_error(error):
    assert answer_for(error) == UNHANDLED == ErrorAnswer(500, "internal_error")


@pytest.mark.parametrize(
    ("raised", "status", "body"),
    [
        (UnsafeIdentifier("the agent_id is not a safe id"), 400, {"error": "unsafe_identifier"}),
        (WithheldCaller("the caller is withheld"), 400, {"error": "withheld_caller"}),
        (Unauthorized("the X-Tool-Key header is wrong"), 401, {"error": "unauthorized"}),
        (ArchiveUnavailable("the archive is down"), 503, {"error": "archive_unavailable"}),
        (ConfigurationError("set ELEVENLABS_HMAC_KEY"), 500, {"error": "misconfigured"}),
        (
            RuntimeError("a bug"),
            500,
            {"error": "internal_error", "detail": "the request could not be handled"},
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_an_entry_point_answers_the_table_in_json(raised, status, body):
    # Given an entry point that raises, when the edge decorator answers for it
    @answer_domain_errors
    def handler(event, context):
        raise raised

    response = handler({}, None)
    # Then the status and the JSON error come from the table, with the error's detail
    assert response["statusCode"] == status
    answered = json.loads(response["body"])
    assert answered == {"detail": str(raised), **body}
