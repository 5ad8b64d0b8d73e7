"""Mid-call: the agent's ``search_memory`` tool over every past call of one caller.

Two channels, fused (``recall.answer``): the caller's recall index in the archive (BM25 over every
call's passages, ours, read in milliseconds) and the memory store's semantic search (the embedded
engine locally, Mem0 Platform's extracted facts in AWS). The store's search runs beside the index's
and is used only if it answers within ``budget_seconds`` of the request's start: Mem0 late, down or
absent degrades nothing the index found (Mem0's own table gives its newest search algorithm a p50 of
0.88–1.09 s per query; the tool's budget is 300 ms, docs/recall.md).
"""

import logging
import sqlite3
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime

from . import archive_keys, caller_links
from .elevenlabs.search_memory import SearchMemoryRequest
from .errors import ArchiveUnavailable, MemoryUnavailable, MissingCaller
from .identity import caller_key
from .ports import Archive, MemoryRecord, MemoryStore
from .recall.answer import answer
from .recall.store import IndexCache
from .redaction import ALL_KINDS, SensitiveKind, redact
from .retention import cutoff
from .scope import MemoryScope, memory_user_id, scoped_agent
from .settings import SearchMemorySettings
from .withheld import is_withheld

log = logging.getLogger(__name__)

# Semantic results asked of the store: enough to fuse, few enough to come back fast.
SEMANTIC_CANDIDATES = 20
# Searches of the store still running after their request answered; more wait for a free worker.
_SEMANTIC_WORKERS = 4
_pool = ThreadPoolExecutor(max_workers=_SEMANTIC_WORKERS, thread_name_prefix="semantic-search")
_indexes = IndexCache()


class SearchUnavailable(MemoryUnavailable):
    """Neither the index nor the store could be searched: the tool answers empty, with a note."""


@dataclass(frozen=True)
class SearchOptions:
    """How the tool answers: ``max_chars`` characters of memories in all, at most ``max_memories``
    of them (None: as many as fit); the store's results waited for until ``budget_seconds`` after
    the request started, each store request given ``store_timeout`` seconds; calls before
    ``oldest_kept`` left out; ``redact_kinds`` redacted."""

    max_chars: int = 2_800
    max_memories: int | None = None
    budget_seconds: float = 0.2
    store_timeout: float | None = None
    default_country_code: str = "1"
    redact_kinds: frozenset[SensitiveKind] = ALL_KINDS
    scope: MemoryScope = MemoryScope.CALLER
    oldest_kept: datetime | None = None


def options_from(settings: SearchMemorySettings, now: datetime) -> SearchOptions:
    """The options the deployment's settings give, with the retention cutoff as of ``now``."""
    return SearchOptions(
        max_chars=settings.search_answer_max_chars,
        max_memories=settings.mem0_search_limit,
        budget_seconds=settings.search_budget_seconds,
        store_timeout=settings.mem0_timeout,
        default_country_code=settings.default_country_code,
        redact_kinds=settings.redact_kinds,
        scope=settings.memory_scope,
        oldest_kept=cutoff(settings.retention_days, now),
    )


def search_memories(
    request: SearchMemoryRequest,
    memory: MemoryStore | None,
    archive: Archive | None,
    options: SearchOptions,
    started: float | None = None,
) -> tuple[str | None, list[str]]:
    """The caller's key and their memories for the query (see ``recall.answer``), best first.

    ``started`` is the request's ``time.monotonic()`` start (default: now). Raises ``MissingCaller``
    for an empty ``user_id``, ``scope.AgentNotNamed`` when memory is kept per agent and the request
    named none, ``SearchUnavailable`` when neither channel could answer. A placeholder for a withheld
    number is nobody: no key and no memories, without a search.
    """
    started = time.monotonic() if started is None else started
    if is_withheld(request.user_id):
        return None, []
    caller_id = caller_key(request.user_id, options.default_country_code)
    if caller_id is None:
        raise MissingCaller("user_id is empty")
    if archive is not None and caller_links.is_linkable(caller_id):
        caller_id = caller_links.resolve(archive, caller_id)  # a WhatsApp id linked to a number
    user_id = memory_user_id(caller_id, request.agent_id, options.scope)
    query = request.query.strip()
    semantic = _semantic_search(memory, user_id, query, options.store_timeout)
    key = archive_keys.recall_key(caller_id, scoped_agent(request.agent_id, options.scope))
    memories: list[str] | None = None
    if archive is not None:
        try:
            with _indexes.opened(archive, key) as index:
                wait = options.budget_seconds if index is not None else _store_only_wait(options)
                records, store_failed = _waited(semantic, started, wait)
                # No index (a caller from before the index, or new) and no store: nothing is known.
                if index is not None or not store_failed:
                    memories = answer(index, query, records, options.max_chars, options.oldest_kept)
        # sqlite3.Error: a SQLite without FTS5 (recall.index.require_fts5) cannot rank the index.
        except (ArchiveUnavailable, ValueError, sqlite3.Error) as error:
            log.warning("the recall index could not be read", extra={"reason": str(error)[:200]})
    if memories is None:
        records, store_failed = _waited(semantic, started, _store_only_wait(options))
        if store_failed:
            raise SearchUnavailable("neither the recall index nor the memory store could be searched")
        memories = answer(None, query, records, options.max_chars, options.oldest_kept)
    return caller_id, [redact(text, options.redact_kinds) for text in memories[: options.max_memories]]


def _store_only_wait(options: SearchOptions) -> float:
    """How long to wait for the store when it is the only source (no index for this caller yet: a
    caller from before the index, until ``profiles rebuild``): as long as one store request may take,
    as before the index existed, rather than answer nothing at the fusion budget."""
    return max(options.budget_seconds, options.store_timeout or 0.0)


def _semantic_search(
    memory: MemoryStore | None, user_id: str, query: str, timeout: float | None
) -> "Future[list[MemoryRecord]] | None":
    if memory is None or not query:
        return None
    return _pool.submit(memory.search, user_id, query, SEMANTIC_CANDIDATES, timeout)


def _waited(
    semantic: "Future[list[MemoryRecord]] | None", started: float, budget_seconds: float
) -> tuple[list[MemoryRecord] | None, bool]:
    """The store's results if they came within the budget (else None), and whether the store failed
    (an error or a missed budget: logged; no search asked is no failure)."""
    if semantic is None:
        return None, False
    try:
        return semantic.result(timeout=max(0.0, started + budget_seconds - time.monotonic())), False
    except FutureTimeout:
        log.info("semantic search missed the budget; answered from the index")
    except Exception as error:  # the store's trouble must not cost the index's answer
        log.warning("semantic search failed", extra={"reason": f"{type(error).__name__}: {str(error)[:200]}"})
    return None, True
