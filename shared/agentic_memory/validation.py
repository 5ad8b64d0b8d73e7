"""Payloads validated against their wire models: a clear ``BadRequest`` that names what is wrong."""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import BadRequest

ModelT = TypeVar("ModelT", bound=BaseModel)


def parse(model: type[ModelT], payload: Any, what: str) -> ModelT:
    """Validate ``payload`` as ``model``; raises ``BadRequest`` naming the first fields that are wrong."""
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or what}: {e['msg']}" for e in error.errors()[:3]
        )
        raise BadRequest(f"invalid {what}: {problems}") from None
