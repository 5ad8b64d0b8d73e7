"""The environment as a model: read once at start, validated, cached by the entry points.

Names come from the original system and must stay stable (see DESIGN.md). Secrets may hold several
comma-separated values so that keys can be rotated without downtime.
"""

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from .identity import normalise_phone_number

DEFAULT_WELCOME = "Hello! Thanks for calling. Who do I have the pleasure of speaking with today?"
DEFAULT_RETURNING_GREETING = "Welcome back, {name}! It's good to hear from you again."
DEFAULT_RETURNING_GREETING_NO_NAME = "Welcome back! It's good to hear from you again."


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    workspace_keys: tuple[SecretStr, ...] = ()
    hmac_keys: tuple[SecretStr, ...] = ()
    tool_keys: tuple[SecretStr, ...] = ()
    mem0_api_key: SecretStr | None = None
    mem0_base_url: str = "https://api.mem0.ai"
    mem0_org_id: str | None = None
    mem0_project_id: str | None = None
    mem0_search_limit: int = Field(default=3, ge=1, le=50)
    # The retrieve budget is 300 ms at p95: a search slower than this answers empty rather than late.
    mem0_timeout: float = Field(default=0.28, gt=0, le=30)
    s3_bucket_name: str | None = None
    # Lets processing fetch a call's audio from ElevenLabs when the webhook was over the size limit.
    elevenlabs_api_key: SecretStr | None = None
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    log_level: str = "INFO"
    home: Path = Path(".agentic-memory")
    # The agent's own phone numbers: a pre-call whose caller_id is one of them is an outbound call.
    agent_numbers: frozenset[str] = frozenset()
    default_country_code: str = "1"
    welcome_message: str = DEFAULT_WELCOME
    returning_greeting: str = DEFAULT_RETURNING_GREETING
    signature_tolerance_seconds: int = Field(default=30 * 60, ge=10)
    # The whole pre-call answer must leave within this; the memory read gets what remains.
    precall_budget_seconds: float = Field(default=0.4, gt=0, le=5)
    # Optional full system prompt override (DESIGN decision 5); {{variable}} slots are filled in.
    prompt_override_template: str | None = None

    @field_validator("returning_greeting")
    @classmethod
    def _greeting_has_name_slot(cls, value: str) -> str:
        if "{name}" not in value:
            raise ValueError("RETURNING_GREETING must contain {name}")
        return value

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "Settings":
        def secrets(name: str) -> tuple[SecretStr, ...]:
            return tuple(SecretStr(v) for v in _split(environ.get(name)))

        values: dict[str, object] = {
            "workspace_keys": secrets("ELEVENLABS_WORKSPACE_KEY"),
            "hmac_keys": secrets("ELEVENLABS_HMAC_KEY"),
            "tool_keys": secrets("ELEVENLABS_TOOL_KEY"),
            "mem0_api_key": SecretStr(environ["MEM0_API_KEY"]) if environ.get("MEM0_API_KEY") else None,
            "mem0_org_id": environ.get("MEM0_ORG_ID") or None,
            "mem0_project_id": environ.get("MEM0_PROJECT_ID") or None,
            "s3_bucket_name": environ.get("S3_BUCKET_NAME") or None,
            "elevenlabs_api_key": (
                SecretStr(environ["ELEVENLABS_API_KEY"]) if environ.get("ELEVENLABS_API_KEY") else None
            ),
        }
        optional = {
            "mem0_base_url": "MEM0_BASE_URL",
            "elevenlabs_base_url": "ELEVENLABS_BASE_URL",
            "mem0_search_limit": "MEM0_SEARCH_LIMIT",
            "mem0_timeout": "MEM0_TIMEOUT",
            "log_level": "LOG_LEVEL",
            "home": "AGENTIC_MEMORY_HOME",
            "default_country_code": "DEFAULT_COUNTRY_CODE",
            "welcome_message": "WELCOME_MESSAGE",
            "returning_greeting": "RETURNING_GREETING",
            "signature_tolerance_seconds": "SIGNATURE_TOLERANCE_SECONDS",
            "precall_budget_seconds": "PRECALL_BUDGET_SECONDS",
            "prompt_override_template": "PROMPT_OVERRIDE_TEMPLATE",
        }
        values.update({field: environ[name] for field, name in optional.items() if environ.get(name)})
        country_code = environ.get("DEFAULT_COUNTRY_CODE") or "1"
        numbers = (
            normalise_phone_number(n, country_code) for n in _split(environ.get("AGENT_PHONE_NUMBERS"))
        )
        values["agent_numbers"] = frozenset(n for n in numbers if n)
        return cls.model_validate(values)

    @staticmethod
    def reveal(keys: tuple[SecretStr, ...]) -> list[str]:
        return [key.get_secret_value() for key in keys]
