"""What ElevenLabs accepts from us, as JSON Schemas declared by hand from docs/elevenlabs-contract.md.

The schemas under ``schemas/`` are written from ElevenLabs' documentation and SDK types, never
generated from our pydantic models, so that a model drifting away from the wire contract fails here.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"


def schema_names() -> list[str]:
    return sorted(path.name.removesuffix(".schema.json") for path in SCHEMAS_DIR.glob("*.schema.json"))


@cache
def schema(schema_name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS_DIR / f"{schema_name}.schema.json").read_text())
    Draft202012Validator.check_schema(loaded)
    return loaded


def validate(schema_name: str, instance: object) -> None:
    """Raise ``jsonschema.ValidationError`` (the most relevant one) when ``instance`` breaks the schema."""
    Draft202012Validator(schema(schema_name), format_checker=Draft202012Validator.FORMAT_CHECKER).validate(
        instance
    )
