"""The ``search_memory`` server tool: the body is the parameter object itself (no wrapper)."""

from typing import Any

from pydantic import AliasChoices, Field, model_validator

from .base import WireModel


class SearchMemoryRequest(WireModel):
    """``{"query": ..., "user_id": ...}`` as a POST body or as GET query parameters.

    ``caller_id`` is accepted for ``user_id`` (a common tool definition names it so), and a
    ``{"parameters": {...}}`` wrapper, which one unverified ElevenLabs text describes, is unwrapped.
    """

    query: str = Field(min_length=1, max_length=2000)
    user_id: str = Field(min_length=1, max_length=64, validation_alias=AliasChoices("user_id", "caller_id"))

    @model_validator(mode="before")
    @classmethod
    def _unwrap_parameters(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("parameters"), dict) and "query" not in value:
            return value["parameters"]
        return value
