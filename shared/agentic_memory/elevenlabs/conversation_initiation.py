"""The conversation initiation ("pre-call") webhook: the request ElevenLabs sends and our answer."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .base import WireModel

DynamicVariableValue = str | int | float | bool | None


class ConversationInitiationRequest(WireModel):
    """Sent for Twilio, SIP trunk, Exotel, WhatsApp and SMS conversations before they start.

    Only ``agent_id`` is always present. On outbound calls ``caller_id`` is the agent's own number
    and ``called_number`` is the person dialled. ``call_sid`` is empty on WhatsApp and SMS; SIP calls
    may add ``call_id`` and ``sip_headers``.
    """

    agent_id: str = Field(min_length=1)
    caller_id: str | None = None
    called_number: str | None = None
    call_sid: str | None = None
    conversation_id: str | None = None
    call_id: str | None = None
    sip_headers: dict[str, str] | None = None


class _Response(BaseModel):
    # Our answers carry exactly what we set; None fields are dropped when serialised.
    model_config = ConfigDict(extra="forbid")


class PromptOverride(_Response):
    prompt: str


class AgentOverride(_Response):
    first_message: str | None = None
    language: str | None = None
    prompt: PromptOverride | None = None


class ConversationConfigOverride(_Response):
    agent: AgentOverride


class ConversationInitiationClientData(_Response):
    """The answer to the initiation webhook (``conversation_initiation_client_data``)."""

    type: Literal["conversation_initiation_client_data"] = "conversation_initiation_client_data"
    dynamic_variables: dict[str, str]
    conversation_config_override: ConversationConfigOverride | None = None
    user_id: str | None = None

    def to_wire(self) -> dict[str, object]:
        return self.model_dump(mode="json", exclude_none=True)
