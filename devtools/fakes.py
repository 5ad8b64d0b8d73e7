"""In-memory implementations of the ports, for unit tests and for wiring checks."""

import hashlib
import itertools
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from agentic_memory.errors import ArchiveKeyMissing, MemoryUnavailable
from agentic_memory.ports import ChatMessage, InferredAdd, MemoryRecord

_WORD = re.compile(r"[a-z0-9]+")


class InMemoryMemoryStore:
    """Keeps memories in a dict; search ranks by shared words, which is enough to test the logic."""

    def __init__(self, infers: bool = False) -> None:
        self._records: dict[str, list[MemoryRecord]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.fail_with: Exception | None = None
        # With ``infers``, ``add_inferred`` keeps the caller's messages as the "extracted" facts.
        self.infers = infers

    def add(self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]) -> list[str]:
        self._maybe_fail()
        ids = []
        with self._lock:
            for message in messages:
                record = MemoryRecord(
                    id=f"mem-{next(self._ids)}",
                    text=message.content,
                    metadata={**metadata, "role": message.role},
                    created_at=datetime.now(UTC).isoformat(),
                )
                self._records.setdefault(user_id, []).append(record)
                ids.append(record.id)
        return ids

    def add_inferred(
        self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]
    ) -> InferredAdd:
        if not self.infers:
            raise MemoryUnavailable("this store has no LLM to infer with")
        said = [message for message in messages if message.role == "user"]
        return InferredAdd(ids=tuple(self.add(user_id, said, metadata)))

    def search(
        self, user_id: str, query: str, limit: int, timeout: float | None = None
    ) -> list[MemoryRecord]:
        self._maybe_fail()
        wanted = set(_WORD.findall(query.lower()))
        scored = []
        for record in self._records.get(user_id, []):
            overlap = len(wanted & set(_WORD.findall(record.text.lower())))
            if overlap:
                scored.append(record.model_copy(update={"score": overlap / max(len(wanted), 1)}))
        scored.sort(key=lambda r: r.score or 0.0, reverse=True)
        return scored[:limit]

    def list_all(self, user_id: str, timeout: float | None = None) -> list[MemoryRecord]:
        self._maybe_fail()
        return list(self._records.get(user_id, []))

    def delete_all(self, user_id: str) -> int:
        with self._lock:
            return len(self._records.pop(user_id, []))

    def delete(self, memory_id: str) -> bool:
        with self._lock:
            for user_id, records in self._records.items():
                kept = [record for record in records if record.id != memory_id]
                if len(kept) != len(records):
                    self._records[user_id] = kept
                    return True
        return False

    def update(self, memory_id: str, text: str) -> bool:
        with self._lock:
            for records in self._records.values():
                for at, record in enumerate(records):
                    if record.id == memory_id:
                        records[at] = record.model_copy(update={"text": text})
                        return True
        return False

    def _maybe_fail(self) -> None:
        if self.fail_with is not None:
            raise MemoryUnavailable(str(self.fail_with)) from self.fail_with


class InMemoryArchive:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.fail_with: Exception | None = None

    def put_new(self, key: str, body: bytes, content_type: str) -> bool:
        self._maybe_fail()
        with self._lock:
            if key in self.objects:
                return False
            self.objects[key] = body
            return True

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._maybe_fail()
        with self._lock:
            self.objects[key] = body

    def get(self, key: str) -> bytes:
        try:
            return self.objects[key]
        except KeyError:
            raise ArchiveKeyMissing(key) from None

    def get_versioned(self, key: str) -> tuple[bytes, str]:
        with self._lock:
            body = self.get(key)
            return body, _version_of(body)

    def get_if_changed(self, key: str, version: str | None) -> tuple[bytes, str] | None:
        body, current = self.get_versioned(key)
        return None if current == version else (body, current)

    def put_if_version(self, key: str, body: bytes, content_type: str, version: str | None) -> bool:
        self._maybe_fail()
        with self._lock:
            current = self.objects.get(key)
            if (None if current is None else _version_of(current)) != version:
                return False
            self.objects[key] = body
            return True

    def exists(self, key: str) -> bool:
        return key in self.objects

    def keys(self, prefix: str) -> Iterator[str]:
        return iter(sorted(k for k in list(self.objects) if k.startswith(prefix)))

    def delete(self, key: str) -> None:
        with self._lock:
            self.objects.pop(key, None)

    def _maybe_fail(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with


def _version_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
