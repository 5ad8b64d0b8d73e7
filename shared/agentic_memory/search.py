"""Mid-call: the agent's ``search_memory`` tool, a semantic search of one caller's memories."""

from typing import Any

from .elevenlabs.tool import SearchMemoryRequest
from .errors import MissingCaller
from .identity import caller_key
from .ports import MemoryRecord, MemoryStore
from .withheld import is_withheld

# How much an agent line's similarity counts against the caller's own words.
ASSISTANT_WEIGHT = 0.85


def search_request_from(body: Any | None, query: dict[str, str]) -> Any:
    """The tool's parameters: the JSON body for POST, the query string for GET."""
    return body if body is not None else dict(query)


def search_memories(
    request: SearchMemoryRequest,
    memory: MemoryStore,
    limit: int,
    timeout: float | None = None,
    default_country_code: str = "1",
) -> tuple[str | None, list[str]]:
    """The caller's key and the texts of the best ``limit`` memories for the query.

    A placeholder for a withheld number is nobody: no key and no memories, without a search.
    """
    if is_withheld(request.user_id):
        return None, []
    caller_id = caller_key(request.user_id, default_country_code)
    if caller_id is None:
        raise MissingCaller("user_id is empty")
    # Over-fetch, then rank the caller's own words and the call facts above the agent's lines, which
    # echo the caller's words with pleasantries ("Thanks for calling about Biscuit…").
    records = memory.search(caller_id, request.query.strip(), limit * 2, timeout)
    ranked = sorted(records, key=_weighted_score, reverse=True)
    return caller_id, [record.text for record in ranked[:limit]]


def _weighted_score(record: MemoryRecord) -> float:
    score = record.score if record.score is not None else 0.0
    return score * ASSISTANT_WEIGHT if record.metadata.get("role") == "assistant" else score
