"""``Mem0PlatformStore``: the ``MemoryStore`` port's operations on Mem0 Platform, the retry policy and
the scrubbing of error text (see the package doc for the decisions)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from ...errors import MemoryUnavailable
from ...identity import mask
from ...ports import ChatMessage, InferredAdd, MemoryRecord
from . import wire
from .errors import Kind, Mem0PlatformError, bad_response
from .transport import DeadlineExceeded, ExchangeFailed, Response, Transport

if TYPE_CHECKING:
    from ...settings import MemorySettings

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.mem0.ai"
DEFAULT_READ_TIMEOUT = 0.35
# Writes run in the asynchronous post-call path: no caller is waiting on the line.
DEFAULT_WRITE_TIMEOUT = 10.0
# The Platform's largest page: a caller's memories rarely need a second request.
DEFAULT_PAGE_SIZE = 200
MAX_PAGES = 500
# A retry needs time for a round trip; below this it would only be cut off.
MIN_SECONDS_FOR_RETRY = 0.02
USER_AGENT = "agentic-memory (python urllib3)"


class Mem0PlatformStore:
    """A caller's memories in Mem0 Platform, keyed by ``user_id`` (see the package doc)."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        write_timeout: float = DEFAULT_WRITE_TIMEOUT,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_idle_connections: int = 4,
    ) -> None:
        if not api_key:
            raise ValueError("a Mem0 API key is required")
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError("MEM0_BASE_URL must be an http:// or https:// URL")
        if not 1 <= page_size <= 200:
            raise ValueError("page_size must be between 1 and 200")
        self.base_url = base_url.rstrip("/")
        self.read_timeout = read_timeout
        self.write_timeout = write_timeout
        self.page_size = page_size
        self._api_key = api_key
        self._path_prefix = url.path.rstrip("/")
        self._headers = {
            "Authorization": f"Token {api_key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        self._transport = Transport(
            url.scheme, url.hostname, url.port or (443 if url.scheme == "https" else 80), max_idle_connections
        )

    @classmethod
    def from_settings(cls, settings: MemorySettings) -> Mem0PlatformStore:
        if settings.mem0_api_key is None:
            raise ValueError("MEM0_API_KEY is not set")
        return cls(
            settings.mem0_api_key.get_secret_value(),
            settings.mem0_base_url,
            read_timeout=settings.mem0_timeout,
        )

    def __repr__(self) -> str:
        return f"Mem0PlatformStore({self.base_url!r})"

    def prepare(self) -> None:
        """Load the HTTP stack and, for https, build the TLS context, without connecting: call it in an
        init phase so that the first request does not pay for them."""
        self._transport.prepare()

    def close(self) -> None:
        """Close the idle connections (the runtime calls this on shutdown); a later call reconnects."""
        self._transport.close()

    # -- the MemoryStore port ------------------------------------------------------------------------

    @property
    def infers(self) -> bool:
        return True

    def add_inferred(
        self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]
    ) -> InferredAdd:
        if not messages:
            return InferredAdd()
        deadline = time.monotonic() + self.write_timeout
        body = wire.inferred_add(user_id, messages, metadata)
        answer = self._call("POST", wire.ADD_PATH, user_id, deadline, _Retries(0), body=body)
        return wire.inferred_added(answer, f"POST {wire.ADD_PATH}")

    def add(self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]) -> list[str]:
        deadline = time.monotonic() + self.write_timeout
        ids: list[str] = []
        for role, contents in wire.contents_by_role(messages).items():
            body = wire.verbatim_add(user_id, role, contents, metadata)
            try:
                answer = self._call("POST", wire.ADD_PATH, user_id, deadline, _Retries(0), body=body)
            except MemoryUnavailable:
                # Half an add would read as a stored call and never be completed by a retry.
                self._forget(ids, user_id, deadline)
                raise
            ids.extend(wire.ids_added(answer, f"POST {wire.ADD_PATH}"))
        return ids

    def search(
        self, user_id: str, query: str, limit: int, timeout: float | None = None
    ) -> list[MemoryRecord]:
        query = query.strip()
        if limit <= 0 or not query:
            return []
        deadline = self._deadline(timeout, self.read_timeout)
        body = wire.search(user_id, query, limit)
        answer = self._call("POST", wire.SEARCH_PATH, user_id, deadline, _Retries(1), body=body)
        return wire.records(answer, f"POST {wire.SEARCH_PATH}")

    def list_all(self, user_id: str, timeout: float | None = None) -> list[MemoryRecord]:
        deadline = self._deadline(timeout, self.read_timeout)
        return self._list(user_id, deadline, _Retries(1))

    def delete_all(self, user_id: str) -> int:
        deadline = time.monotonic() + self.write_timeout
        count = len(self._list(user_id, deadline, _Retries(0)))
        if count:
            query = {"user_id": user_id}
            self._call("DELETE", wire.DELETE_ALL_PATH, user_id, deadline, _Retries(0), query=query)
        return count

    def delete(self, memory_id: str) -> bool:
        deadline = time.monotonic() + self.write_timeout
        try:
            self._call("DELETE", wire.memory_path(memory_id), "", deadline, _Retries(0))
        except Mem0PlatformError as error:
            if error.kind == "not_found":
                return False
            raise
        return True

    def update(self, memory_id: str, text: str) -> bool:
        deadline = time.monotonic() + self.write_timeout
        try:
            self._call("PUT", wire.memory_path(memory_id), "", deadline, _Retries(0), body={"text": text})
        except Mem0PlatformError as error:
            if error.kind == "not_found":
                return False
            raise
        return True

    # -- requests ------------------------------------------------------------------------------------

    def _list(self, user_id: str, deadline: float, retries: _Retries) -> list[MemoryRecord]:
        operation = f"POST {wire.LIST_PATH}"
        records: list[MemoryRecord] = []
        page: int | None = 1
        pages = 0
        while page is not None:
            pages += 1
            if pages > MAX_PAGES:
                raise bad_response(operation, f"more than {MAX_PAGES} pages")
            answer = self._call(
                "POST",
                wire.LIST_PATH,
                user_id,
                deadline,
                retries,
                query={"page": page, "page_size": self.page_size},
                body=wire.listing(user_id),
            )
            records.extend(wire.records(answer, operation))
            page = wire.next_page(answer, page, operation)
        # Oldest first, as the calls happened (the Platform lists newest first).
        return sorted(records, key=wire.creation_order)

    def _forget(self, ids: list[str], user_id: str, deadline: float) -> None:
        for memory_id in ids:
            try:
                self._call("DELETE", wire.memory_path(memory_id), user_id, deadline, _Retries(0))
            except MemoryUnavailable:
                log.warning("a partly stored add could not be rolled back (%d memories)", len(ids))
                return

    def _call(
        self,
        method: str,
        path: str,
        user_id: str,
        deadline: float,
        retries: _Retries,
        *,
        query: Mapping[str, str | int] | None = None,
        body: Any = None,
    ) -> Any:
        operation = f"{method} {path}"
        target = self._path_prefix + path + ("?" + urlencode(query, quote_via=quote) if query else "")
        payload = None if body is None else wire.json_bytes(body)
        headers = self._headers if payload is None else self._json_headers
        while True:
            try:
                response = self._transport.exchange(method, target, payload, headers, deadline)
            except DeadlineExceeded as error:
                raise Mem0PlatformError(
                    f"Mem0 {operation}: no answer in time", operation=operation, kind="timeout"
                ) from error
            except ExchangeFailed as error:
                if retries.take(deadline):
                    continue
                raise Mem0PlatformError(
                    f"Mem0 {operation}: {self._scrub(str(error), user_id)}",
                    operation=operation,
                    kind="unreachable",
                ) from error
            if response.status >= 500 and retries.take(deadline):
                continue
            return self._answer(response, operation, user_id)

    def _answer(self, response: Response, operation: str, user_id: str) -> Any:
        status, raw = response.status, response.body
        if 200 <= status < 300:
            try:
                return json.loads(raw) if raw.strip() else None
            except ValueError:
                snippet = self._scrub(raw[:120].decode("utf-8", "replace"), user_id)
                raise Mem0PlatformError(
                    f"Mem0 {operation} -> {status}: not JSON: {snippet!r}",
                    operation=operation,
                    kind="bad_response",
                    status=status,
                ) from None
        detail = self._scrub(wire.detail_of(raw), user_id)
        retry_after = None
        kind: Kind
        if status == 429:
            kind = "rate_limited"
            retry_after = wire.seconds_from_retry_after(response.headers.get("Retry-After"))
        elif status >= 500:
            kind = "server"
        elif status in (401, 403):
            kind = "auth"
        elif status == 404:
            kind = "not_found"
        elif status >= 400:
            kind = "rejected"
        else:  # 1xx/3xx: the Platform never redirects an API call; following one could leak the key
            kind = "bad_response"
        raise Mem0PlatformError(
            f"Mem0 {operation} -> {status}: {detail}",
            operation=operation,
            kind=kind,
            status=status,
            detail=detail,
            retry_after=retry_after,
        )

    def _scrub(self, text: str, user_id: str) -> str:
        """Error text fit for logs: no key, and the caller's number masked."""
        text = text.replace(self._api_key, "****")
        return text.replace(user_id, mask(user_id)) if user_id else text

    @staticmethod
    def _deadline(timeout: float | None, default: float) -> float:
        return time.monotonic() + (default if timeout is None else timeout)


class _Retries:
    """What is left of an operation's retry budget (shared by the pages of a list)."""

    def __init__(self, allowed: int) -> None:
        self.left = allowed

    def take(self, deadline: float) -> bool:
        if self.left <= 0 or deadline - time.monotonic() < MIN_SECONDS_FOR_RETRY:
            return False
        self.left -= 1
        return True
