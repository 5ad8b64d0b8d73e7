"""The embedded default memory store: Mem0's open-source engine (``mem0.Memory``), fully offline.

Layout under the directory it is given (``$AGENTIC_MEMORY_HOME/memory`` in the local runtime):
``qdrant/`` the embedded Qdrant vector store (384-dimension cosine vectors), ``history.db`` Mem0's
history, ``mem0/`` Mem0's own settings folder (``MEM0_DIR``).

Offline by construction: embeddings come from the ONNX MiniLM model registered as a Mem0 embedder
provider; memories are stored verbatim (``infer=False``) and the LLM provider registered for Mem0
refuses to run, so no key is faked and nothing can call out; telemetry is off before Mem0 is imported.

**Inference is opt-in.** Given an ``OpenAICompatibleLlm`` (a base URL, a model and a key: OpenAI,
or a local server such as Ollama, vLLM or llama.cpp that speaks ``/v1/chat/completions``), the store
``infers``: ``add_inferred`` runs Mem0's own extraction through Mem0's ``openai`` LLM provider pointed
at that URL. That is the only network the store ever uses, and only on those adds.

**One process owns the store.** Embedded Qdrant locks its folder: a second process (or a second open
store on the same folder) fails to open with ``MemoryUnavailable``. Threads of the owning process may
share one instance; their calls run one at a time.

``mem0`` is imported on ``open()`` (or the first call), never when this module is imported. The classes
Mem0's factories instantiate by import path are built then too, and served by the module ``__getattr__``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

from agentic_memory.errors import MemoryUnavailable
from agentic_memory.ports import ChatMessage, InferredAdd, MemoryRecord

from .embedding.onnx_minilm import DIMENSIONS, MODEL_ID, shared_embedder

logger = logging.getLogger(__name__)

EMBEDDER_PROVIDER = "agentic_memory_onnx_minilm"
LLM_PROVIDER = "agentic_memory_no_llm"
DEFAULT_COLLECTION = "memories"
# Mem0's get_all returns 20 memories unless told otherwise and cannot page: ask for this many, and
# for more while a page comes back full.
_FIRST_PAGE_SIZE = 1_000
# Keys Mem0 lifts out of a memory's metadata into the record itself; we put them back.
_KEYS_MEM0_LIFTS = ("role", "agent_id")


# Verbatim memories stored per hold of the engine (see EmbeddedMemoryStore._add).
_VERBATIM_CHUNK = 16
# How long a failure to open is reported as it is before ``availability`` tries again.
_REOPEN_INTERVAL_SECONDS = 1.0


class LlmNotConfigured(RuntimeError):
    """Mem0 tried to call an LLM: this store only ever adds verbatim (``infer=False``)."""


@dataclass(frozen=True)
class OpenAICompatibleLlm:
    """An LLM behind an OpenAI-compatible chat-completions API, for Mem0's fact extraction.

    ``base_url`` ends where ``/chat/completions`` is appended (e.g. ``http://127.0.0.1:11434/v1``).
    Servers that need no key get a placeholder: the OpenAI client refuses to start without one.
    """

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)

    def mem0_config(self) -> dict[str, Any]:
        return {"model": self.model, "api_key": self.api_key or "unused", "openai_base_url": self.base_url}


class EmbeddedMemoryStore:
    """A caller's memories in Mem0's open-source engine, embedded in this process (see the module doc)."""

    def __init__(
        self,
        directory: Path | str,
        *,
        collection_name: str = DEFAULT_COLLECTION,
        llm: OpenAICompatibleLlm | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.collection_name = collection_name
        self.llm = llm
        self._memory: Any = None  # mem0.Memory once open
        self._lock = threading.RLock()
        self._last_open_failure: tuple[float, str] = (0.0, "")

    # -- lifecycle ---------------------------------------------------------------------------------

    def open(self) -> None:
        """Import Mem0, load the model and open the folder. Idempotent; call it before reporting ready."""
        with self._lock:
            self._opened()

    def close(self) -> None:
        """Release the folder (Qdrant's lock and both databases) so that another instance may open it.

        A later call on this instance opens it again."""
        with self._lock:
            memory, self._memory = self._memory, None
            if memory is None:
                return
            with _mem0_errors("close"):
                memory.close()  # Mem0 closes its history database only, not the vector store
                memory.vector_store.client.close()

    def availability(self) -> str | None:
        """None when the store is open (or opens now), else why it cannot open: for ``/health``.

        Never waits: a store busy with another operation is open. A failed attempt is remembered for a
        second, so that health checks in a loop do not retry opening on every call."""
        if self._memory is not None:
            return None
        failed_at, reason = self._last_open_failure
        if reason and time.monotonic() - failed_at < _REOPEN_INTERVAL_SECONDS:
            return reason
        if not self._lock.acquire(blocking=False):
            return None
        try:
            self._opened()
            return None
        except MemoryUnavailable as error:
            self._last_open_failure = (time.monotonic(), str(error))
            return str(error)
        finally:
            self._lock.release()

    def __enter__(self) -> EmbeddedMemoryStore:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- the MemoryStore port ----------------------------------------------------------------------

    @property
    def infers(self) -> bool:
        return self.llm is not None

    def add(self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]) -> list[str]:
        return self._add(user_id, messages, metadata, infer=False)

    def add_inferred(
        self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]
    ) -> InferredAdd:
        if self.llm is None:
            raise MemoryUnavailable("the embedded memory store has no LLM configured (EMBEDDED_LLM_BASE_URL)")
        # Mem0's engine extracts while the add runs: the memories exist when it returns.
        return InferredAdd(ids=tuple(self._add(user_id, messages, metadata, infer=True)))

    def _add(
        self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any], infer: bool
    ) -> list[str]:
        if not messages:
            return []
        stored_metadata = dict(metadata)
        # Mem0 drops an ``agent_id`` found in metadata (identity keys are its own): pass it as Mem0's
        # agent id instead, which it stores and reports back. Searches stay scoped to the user only.
        agent_id = stored_metadata.pop("agent_id", None) or None
        # Verbatim messages are stored a few at a time, the engine released in between: an hour-long
        # call is some 150 passages (13 s of embedding here), and holding the engine that long made
        # other calls' processing give up waiting (MemoryUnavailable after 10 s) and searches miss.
        # With inference the whole conversation is one extraction, so it goes in one add.
        chunks = (
            [messages]
            if infer
            else [messages[i : i + _VERBATIM_CHUNK] for i in range(0, len(messages), _VERBATIM_CHUNK)]
        )
        ids: list[str] = []
        for chunk in chunks:
            with self._locked(timeout=None) as memory, _mem0_errors("add memories"):
                result = memory.add(
                    [{"role": m.role, "content": m.content} for m in chunk],
                    user_id=user_id,
                    agent_id=agent_id,
                    metadata=stored_metadata,
                    infer=infer,
                )
            ids.extend(str(item["id"]) for item in result["results"])
        return ids

    def search(
        self, user_id: str, query: str, limit: int, timeout: float | None = None
    ) -> list[MemoryRecord]:
        if limit <= 0 or not query.strip():
            return []
        with self._locked(timeout) as memory, _mem0_errors("search memories"):
            # ``top_k``, not ``limit``: Mem0 silently ignores ``limit`` and answers 20.
            result = memory.search(query, filters={"user_id": user_id}, top_k=limit)
        return [_record_from(item) for item in result["results"]]

    def list_all(self, user_id: str, timeout: float | None = None) -> list[MemoryRecord]:
        with self._locked(timeout) as memory, _mem0_errors("list memories"):
            items = _every_memory_of(memory, user_id)
        records = [_record_from(item) for item in items]
        # Qdrant lists by point id (random uuids): oldest first reads like the calls happened.
        return sorted(records, key=lambda record: record.created_at or "")

    def delete_all(self, user_id: str) -> int:
        with self._locked(timeout=None) as memory, _mem0_errors("delete memories"):
            # Mem0 counts what it deletes but only logs it: count first, under the same lock.
            count = len(_every_memory_of(memory, user_id, show_expired=True))
            if count:
                memory.delete_all(user_id=user_id)
        return count

    def delete(self, memory_id: str) -> bool:
        with self._locked(timeout=None) as memory, _mem0_errors("delete a memory"):
            if memory.get(memory_id) is None:
                return False
            memory.delete(memory_id)
        return True

    def update(self, memory_id: str, text: str) -> bool:
        with self._locked(timeout=None) as memory, _mem0_errors("update a memory"):
            if memory.get(memory_id) is None:
                return False
            memory.update(memory_id, text=text)
        return True

    # -- internals ---------------------------------------------------------------------------------

    @contextmanager
    def _locked(self, timeout: float | None) -> Iterator[Any]:
        """The open Mem0 engine, one thread at a time. ``timeout`` bounds the wait for the engine (and
        its opening); an operation that has started (~15 ms) is not interrupted."""
        if timeout is not None and timeout <= 0:
            raise MemoryUnavailable("no time left to read memories")
        if not self._lock.acquire(timeout=-1 if timeout is None else timeout):
            raise MemoryUnavailable(f"the memory store stayed busy for {timeout:.3f} s")
        try:
            yield self._opened()
        finally:
            self._lock.release()

    def _opened(self) -> Any:
        if self._memory is None:
            with _mem0_errors(f"open the memory store in {self.directory}"):
                self._memory = _open_mem0(self.directory, self.collection_name, self.llm)
        return self._memory


def _every_memory_of(memory: Any, user_id: str, show_expired: bool = False) -> list[dict[str, Any]]:
    page_size = _FIRST_PAGE_SIZE
    while True:
        items: list[dict[str, Any]] = memory.get_all(
            filters={"user_id": user_id}, top_k=page_size, show_expired=show_expired
        )["results"]
        if len(items) < page_size:
            return items
        page_size *= 4


def _record_from(item: Mapping[str, Any]) -> MemoryRecord:
    metadata = dict(item.get("metadata") or {})
    for key in _KEYS_MEM0_LIFTS:
        if item.get(key) is not None:
            metadata[key] = item[key]
    return MemoryRecord(
        id=str(item["id"]),
        text=item.get("memory") or "",
        metadata=metadata,
        created_at=item.get("created_at"),
        score=item.get("score"),
    )


@contextmanager
def _mem0_errors(action: str) -> Iterator[None]:
    """Any failure inside Mem0, Qdrant or the model is the store being unavailable, for the domain."""
    try:
        yield
    except MemoryUnavailable:
        raise
    except Exception as error:
        raise MemoryUnavailable(f"could not {action}: {type(error).__name__}: {error}") from error


# -- Mem0 set-up --------------------------------------------------------------------------------------


def _open_mem0(directory: Path, collection_name: str, llm: OpenAICompatibleLlm | None) -> Any:
    mem0_dir = directory / "mem0"
    mem0_dir.mkdir(parents=True, exist_ok=True)
    _import_mem0_offline(mem0_dir)
    _register_providers()
    shared_embedder().warm_up()

    from mem0 import Memory
    from mem0.configs.base import MemoryConfig
    from mem0.embeddings.configs import EmbedderConfig
    from mem0.llms.configs import LlmConfig
    from qdrant_client import QdrantClient

    # Our own client: Mem0 never closes the one it makes, and every call goes through the store's lock,
    # so SQLite's same-thread check (on by default on macOS) can be lifted.
    qdrant_path = directory / "qdrant"
    client = QdrantClient(path=str(qdrant_path), force_disable_check_same_thread=True)
    try:
        config = MemoryConfig(
            vector_store={
                "provider": "qdrant",
                "config": {
                    "client": client,
                    "path": str(qdrant_path),
                    "collection_name": collection_name,
                    "embedding_model_dims": DIMENSIONS,
                },
            },
            history_db_path=str(directory / "history.db"),
        )
        # Mem0's config models accept only the provider names they list; ours are registered in the
        # factories (which is what instantiates them), so these two skip that list.
        config.embedder = EmbedderConfig.model_construct(
            provider=EMBEDDER_PROVIDER, config={"model": MODEL_ID, "embedding_dims": DIMENSIONS}
        )
        if llm is None:
            config.llm = LlmConfig.model_construct(provider=LLM_PROVIDER, config={})
        else:
            # Mem0's own OpenAI provider: it takes a base URL, so any compatible server will do.
            config.llm = LlmConfig(provider="openai", config=llm.mem0_config())
        with warnings.catch_warnings():
            # Mem0 asks any Qdrant it did not connect itself for payload indexes; locally they are no-ops.
            warnings.filterwarnings("ignore", message="Payload indexes have no effect", category=UserWarning)
            return Memory(config)
    except BaseException:
        client.close()  # release the folder lock, or the next attempt in this process fails too
        raise


def _import_mem0_offline(mem0_dir: Path) -> None:
    """Import Mem0 with telemetry off and its settings folder under ours.

    Mem0 reads both variables once, at import: it writes ``config.json`` into ``MEM0_DIR`` right then,
    and with telemetry on it sends PostHog events and fetches notices from GitHub. So they are set first.
    """
    if "mem0" not in sys.modules:
        os.environ["MEM0_TELEMETRY"] = "false"
        os.environ["MEM0_DIR"] = str(mem0_dir)
    import mem0.memory.main
    import mem0.memory.telemetry

    # Imported earlier by someone else (the Platform client's tests do): its flags are already read,
    # and the folder stays where that import put it. Turn telemetry off where Mem0 checks it.
    if mem0.memory.telemetry.MEM0_TELEMETRY or mem0.memory.main.MEM0_TELEMETRY:
        logger.warning("mem0 was imported with telemetry on; turning it off for the embedded store")
        mem0.memory.telemetry.MEM0_TELEMETRY = False
        mem0.memory.main.MEM0_TELEMETRY = False


@cache
def _register_providers() -> None:
    from mem0.configs.llms.base import BaseLlmConfig
    from mem0.utils.factory import EmbedderFactory, LlmFactory

    # The factories import "module.Class" paths: ours are served by this module's __getattr__.
    EmbedderFactory.provider_to_class[EMBEDDER_PROVIDER] = f"{__name__}.Mem0OnnxEmbedder"
    LlmFactory.provider_to_class[LLM_PROVIDER] = (f"{__name__}.Mem0NoLlm", BaseLlmConfig)
    for name in ("mem0.utils.spacy_models", "mem0.vector_stores.qdrant"):
        logging.getLogger(name).addFilter(_drop_advice_to_install_downloaders)


def _drop_advice_to_install_downloaders(record: logging.LogRecord) -> bool:
    """Mem0 warns in every process that spaCy and fastembed are missing and advises installing them.

    They are left out on purpose: both download models at run time (en_core_web_sm, Qdrant/bm25). Without
    them search is semantic only, which is what this store promises.
    """
    return not record.getMessage().startswith(("Failed to load spaCy", "fastembed not installed"))


@cache
def _mem0_provider_classes() -> dict[str, type]:
    """Mem0-facing classes; built on first use because their base classes live in mem0."""
    from mem0.embeddings.base import EmbeddingBase
    from mem0.llms.base import LLMBase

    class Mem0OnnxEmbedder(EmbeddingBase):
        """Mem0's view of the process-wide ONNX MiniLM embedder."""

        def embed(self, text: str, memory_action: str | None = None) -> list[float]:
            return shared_embedder().embed(text)

        def embed_batch(self, texts: list[str], memory_action: str = "add") -> list[list[float]]:
            return shared_embedder().embed_many(texts)

    class Mem0NoLlm(LLMBase):
        """Stands where Mem0 requires an LLM, instead of a fake OpenAI key; reached only if inference is."""

        def generate_response(
            self,
            messages: list[dict[str, str]],
            tools: list[dict[str, Any]] | None = None,
            tool_choice: str = "auto",
            **kwargs: Any,
        ) -> str:
            raise LlmNotConfigured(
                "the embedded memory store has no LLM: add memories with infer=False (verbatim)"
            )

    return {cls.__name__: cls for cls in (Mem0OnnxEmbedder, Mem0NoLlm)}


def __getattr__(name: str) -> type:
    if name in ("Mem0OnnxEmbedder", "Mem0NoLlm"):
        return _mem0_provider_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
