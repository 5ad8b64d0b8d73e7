"""Mid-call: the agent's ``search_memory`` tool, a semantic search of one caller's memories."""

from collections.abc import Iterable
from datetime import datetime

from .elevenlabs.search_memory import SearchMemoryRequest
from .errors import MissingCaller
from .identity import caller_key
from .memory_building import clip_words
from .ports import MemoryRecord, MemoryStore
from .redaction import ALL_KINDS, SensitiveKind, redact
from .retention import recent_records
from .scope import MemoryScope, memory_user_id
from .withheld import is_withheld

# How much an agent line's similarity counts against the caller's own words.
ASSISTANT_WEIGHT = 0.85
# Each memory text the tool returns, at most: the agent reads the answer mid-call, within its budget,
# and a memory stored before memories were capped may be far longer.
RESULT_MAX_CHARS = 1_000


def search_memories(
    request: SearchMemoryRequest,
    memory: MemoryStore,
    limit: int,
    timeout: float | None = None,
    default_country_code: str = "1",
    redact_kinds: Iterable[SensitiveKind] = ALL_KINDS,
    scope: MemoryScope = MemoryScope.CALLER,
    oldest_kept: datetime | None = None,
) -> tuple[str | None, list[str]]:
    """The caller's key and the texts of the best ``limit`` memories for the query.

    Sensitive numbers of ``redact_kinds`` are redacted from the texts: memories stored before
    redaction existed must not be read back to the caller either. Under ``scope`` caller_and_agent
    only the caller's memories with the request's agent are searched; a request naming no agent
    raises ``scope.AgentNotNamed`` (the tool answers empty, with a note). Memories made before
    ``oldest_kept`` (``retention.cutoff``) are left out. Each text is at most ``RESULT_MAX_CHARS``,
    clipped at a word boundary with "…".

    A placeholder for a withheld number is nobody: no key and no memories, without a search.
    """
    if is_withheld(request.user_id):
        return None, []
    caller_id = caller_key(request.user_id, default_country_code)
    if caller_id is None:
        raise MissingCaller("user_id is empty")
    # Over-fetch, then rank the caller's own words and the call facts above the agent's lines, which
    # echo the caller's words with pleasantries ("Thanks for calling about Biscuit…").
    user_id = memory_user_id(caller_id, request.agent_id, scope)
    records = recent_records(memory.search(user_id, request.query.strip(), limit * 2, timeout), oldest_kept)
    ranked = sorted(records, key=_weighted_score, reverse=True)
    texts = (redact(record.text, redact_kinds) for record in ranked[:limit])
    return caller_id, [clip_words(text, RESULT_MAX_CHARS) for text in texts]


def _weighted_score(record: MemoryRecord) -> float:
    score = record.score if record.score is not None else 0.0
    return score * ASSISTANT_WEIGHT if record.metadata.get("role") == "assistant" else score
