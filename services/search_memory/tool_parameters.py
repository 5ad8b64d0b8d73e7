"""The ``search_memory`` server tool's parameters, read from the HTTP request ElevenLabs sends."""

from typing import Any
from urllib.parse import parse_qsl

from services.http_edge import HttpRequest

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def search_request_from(request: HttpRequest) -> Any:
    """The tool's parameters: the query string, overlaid by the body of a POST.

    ElevenLabs sends a webhook tool's body as JSON or form-encoded (the tool's ``content_type``) and
    its query parameters in the URL, for any method. The body is read as its ``Content-Type`` says
    (``+json`` types are JSON); without a usable one it is JSON when it looks like JSON, else a
    form. A JSON body that is no object is returned as it is, for the model to refuse. Raises
    ``BadRequest`` for a JSON body that does not parse.
    """
    parameters: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.body.strip():
        return parameters
    body = _json_or_form(request)
    if not isinstance(body, dict):
        return body
    return parameters | body


def _json_or_form(request: HttpRequest) -> Any:
    media_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    if media_type == FORM:
        return _form(request.body)
    if media_type == JSON or media_type.endswith("+json") or request.body.lstrip()[:1] in (b"{", b"["):
        return request.json_body()
    return _form(request.body)


def _form(body: bytes) -> dict[str, str]:
    # A repeated field keeps its last value, as most form parsers do.
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
