"""The ``search_memory`` server tool: the body is the parameter object itself (no wrapper)."""

from typing import Any

from pydantic import AliasChoices, Field, model_validator

from .base import WireModel

# Where tool definitions put the search text: ours (``query``), Mem0's own ElevenLabs tools
# (``message``), and the names people give a free-text parameter. The first one present wins.
QUERY_NAMES = ("query", "message", "text", "question")
# Where they put the caller: ours, and a definition sourcing it from ``system__caller_id``.
CALLER_NAMES = ("user_id", "caller_id")
# Where they put the agent: ours (sourced from ``system__current_agent_id``, the agent speaking, which
# a transfer changes), and the variables' own names, the current agent before the first one.
AGENT_NAMES = ("agent_id", "system__current_agent_id", "system__agent_id")


class SearchMemoryRequest(WireModel):
    """``{"query": ..., "user_id": ...}`` from a JSON body, a form body or the query string.

    The query may be named as any of ``QUERY_NAMES`` and the caller as any of ``CALLER_NAMES``. A
    ``{"parameters": {...}}`` wrapper, which one unverified ElevenLabs text describes, is unwrapped.
    """

    query: str = Field(min_length=1, max_length=2000, validation_alias=AliasChoices(*QUERY_NAMES))
    # Up to 256: web user ids (OAuth subjects) and their encoded keys (at most 128) run long.
    user_id: str = Field(min_length=1, max_length=256, validation_alias=AliasChoices(*CALLER_NAMES))
    # The agent the call is with: needed when memories are kept per caller and agent (MEMORY_SCOPE).
    agent_id: str | None = Field(default=None, max_length=256, validation_alias=AliasChoices(*AGENT_NAMES))

    @model_validator(mode="before")
    @classmethod
    def _unwrap_parameters(cls, value: Any) -> Any:
        if (
            isinstance(value, dict)
            and isinstance(value.get("parameters"), dict)
            and not any(name in value for name in QUERY_NAMES)
        ):
            outside = {key: item for key, item in value.items() if key != "parameters"}
            return outside | value["parameters"]
        return value
