"""Post-call webhooks: ``post_call_transcription``, ``post_call_audio``, ``call_initiation_failure``.

The envelope is ``{type, event_timestamp, data}``; ``event_timestamp`` is documented both as a number
and as a string, so both parse.
"""

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .base import WireModel

TRANSCRIPTION = "post_call_transcription"
AUDIO = "post_call_audio"
INITIATION_FAILURE = "call_initiation_failure"


class ToolCall(WireModel):
    tool_name: str | None = None
    request_id: str | None = None
    params_as_json: str | None = None


class DynamicVariableUpdate(WireModel):
    """A dynamic variable a tool changed during the call (SDK: ``DynamicVariableUpdateCommonModel``)."""

    variable_name: str
    old_value: str | None = None
    new_value: str | None = None
    updated_at: float | None = None


def _object_or_none(value: Any) -> Any:
    """A field that must be a JSON object: anything else (an unexpected shape) is read as absent."""
    return value if isinstance(value, dict) else None


class ToolResult(WireModel):
    tool_name: str | None = None
    request_id: str | None = None
    result_value: str | None = None
    is_error: bool | None = None
    dynamic_variable_updates: list[DynamicVariableUpdate] | None = None
    # A system tool's structured result; for a transfer between agents ``{"result_type":
    # "transfer_to_agent_success", "from_agent", "to_agent", …}`` (SDK:
    # ``ConversationHistoryTranscriptSystemToolResultCommonModelOutputResult``). Any shape is kept.
    result: dict[str, Any] | None = None

    _result_is_an_object = field_validator("result", mode="before")(_object_or_none)


class AgentMetadata(WireModel):
    """Which agent said an agent turn (SDK: ``AgentMetadata``); after a transfer, the new agent."""

    agent_id: str | None = None
    branch_id: str | None = None
    workflow_node_id: str | None = None


class MultivoicePart(WireModel):
    text: str | None = None
    voice_label: str | None = None


class MultivoiceMessage(WireModel):
    """A multi-voice agent's turn, said in parts by several voices (SDK:
    ``ConversationHistoryMultivoiceMessageModel``, ``parts[].text``)."""

    parts: list[MultivoicePart] = Field(default_factory=list)


class TranscriptTurn(WireModel):
    """One transcript turn. A multi-voice agent's turn may carry ``message: null`` and its words in
    ``multivoice_message.parts``: ``message`` is then those parts' text, joined, so that every reader
    of the transcript sees what was said. ``ignored_as_backchannel`` marks a turn ElevenLabs' turn
    taking ignored as a backchannel ("mm-hmm"): no memory (SDK's transcript model, both fields)."""

    role: Literal["user", "agent"]
    # Tool-only turns carry no text.
    message: str | None = None
    multivoice_message: MultivoiceMessage | None = None
    ignored_as_backchannel: bool | None = None
    time_in_call_secs: float | None = None
    tool_calls: list[ToolCall] | None = None
    tool_results: list[ToolResult] | None = None
    agent_metadata: AgentMetadata | None = None

    _agent_metadata_is_an_object = field_validator("agent_metadata", mode="before")(_object_or_none)

    @model_validator(mode="after")
    def _text_of_a_multivoice_turn(self) -> "TranscriptTurn":
        if self.message is None and self.multivoice_message is not None:
            texts = [
                part.text.strip() for part in self.multivoice_message.parts if part.text and part.text.strip()
            ]
            if texts:
                self.message = " ".join(texts)
        return self


class PhoneCall(WireModel):
    """Twilio, Exotel and SIP trunk calls. ``external_number`` is the other party in both directions."""

    type: str | None = None
    direction: Literal["inbound", "outbound"] | None = None
    agent_number: str | None = None
    external_number: str | None = None
    call_sid: str | None = None
    call_id: str | None = None
    phone_number_id: str | None = None
    sip_header_dynamic_variables: dict[str, Any] | None = None


class WhatsAppConversation(WireModel):
    """A WhatsApp conversation (the SDK's ``WhatsAppConversationInfo``). ``whatsapp_user_id`` is the
    person in both directions: their number as international digits without "+", or a business-scoped
    id (``US.1349…``) when they hide it behind a username; ``whatsapp_phone_number_id`` is the agent's
    WhatsApp number, as Meta's id for it."""

    # "inbound", "outbound" or "unknown" today; any other value is kept rather than refused.
    direction: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_user_id: str | None = None


class SmsConversation(WireModel):
    """An SMS conversation (the SDK's ``SmsConversationInfo``): ``sms_user_phone_number`` is the person
    and ``agent_phone_number`` the agent, in both directions."""

    direction: str | None = None
    phone_number_id: str | None = None
    sms_user_phone_number: str | None = None
    agent_phone_number: str | None = None


# Unix times and durations a call can have: anything else would fail later, in processing.
LATEST_UNIX_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z
LONGEST_CALL_SECONDS = 7 * 24 * 3600


class CallMetadata(WireModel):
    start_time_unix_secs: int | None = Field(default=None, ge=0, le=LATEST_UNIX_TIME)
    call_duration_secs: float | None = Field(default=None, ge=0, le=LONGEST_CALL_SECONDS)
    phone_call: PhoneCall | None = None
    whatsapp: WhatsAppConversation | None = None
    sms: SmsConversation | None = None
    # The channel: "twilio", "sip_trunk", "whatsapp", "twilio_sms", "widget", an SDK… (kept as sent).
    conversation_initiation_source: str | None = None
    termination_reason: str | None = None
    main_language: str | None = None
    # Set when the conversation failed: ``{code, reason}`` in the SDK's model; any shape is kept.
    error: Any = None

    @property
    def channel(self) -> str | None:
        """``"whatsapp"`` or ``"sms"`` when the conversation was on one, else the initiation source."""
        if self.whatsapp is not None or self.conversation_initiation_source == "whatsapp":
            return "whatsapp"
        if self.sms is not None or self.conversation_initiation_source == "twilio_sms":
            return "sms"
        return self.conversation_initiation_source

    @property
    def outbound(self) -> bool:
        """True when the agent started the conversation (a call it placed, a message it sent first)."""
        parties = (self.phone_call, self.whatsapp, self.sms)
        return any(party is not None and party.direction == "outbound" for party in parties)


class EvaluationResult(WireModel):
    criteria_id: str | None = None
    result: str | None = None
    rationale: str | None = None


class DataCollectionResult(WireModel):
    data_collection_id: str | None = None
    value: Any = None
    rationale: str | None = None


class Analysis(WireModel):
    call_successful: str | None = None
    transcript_summary: str | None = None
    call_summary_title: str | None = None
    evaluation_criteria_results: dict[str, EvaluationResult] = Field(default_factory=dict)
    data_collection_results: dict[str, DataCollectionResult] = Field(default_factory=dict)

    @field_validator("evaluation_criteria_results", "data_collection_results", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value


class InitiationClientData(WireModel):
    """What the conversation started with, including the final ``system__*`` variables."""

    dynamic_variables: dict[str, Any] = Field(default_factory=dict)

    @field_validator("dynamic_variables", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value


class VisitedAgent(WireModel):
    """An agent that took part in the conversation, in first-seen transcript order (SDK:
    ``VisitedAgentRef``)."""

    agent_id: str | None = None
    branch_id: str | None = None


class TranscriptionData(WireModel):
    agent_id: str = Field(min_length=1)
    conversation_id: str = Field(min_length=1)
    status: str | None = None
    user_id: str | None = None
    transcript: list[TranscriptTurn] = Field(default_factory=list)
    metadata: CallMetadata = Field(default_factory=CallMetadata)
    analysis: Analysis | None = None
    conversation_initiation_client_data: InitiationClientData | None = None
    has_audio: bool | None = None
    # Every agent of a conversation with transfers (``transfer_to_agent``), the first one included.
    visited_agents: list[VisitedAgent] = Field(default_factory=list)

    @field_validator("transcript", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("visited_agents", mode="before")
    @classmethod
    def _only_objects(cls, value: Any) -> Any:
        return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


class AudioData(WireModel):
    agent_id: str = Field(min_length=1)
    conversation_id: str = Field(min_length=1)
    full_audio: str = Field(min_length=1, description="base64-encoded MP3 of the whole call")


class FailureMetadata(WireModel):
    type: str | None = None
    body: dict[str, Any] = Field(default_factory=dict)


class InitiationFailureData(WireModel):
    agent_id: str = Field(min_length=1)
    conversation_id: str = Field(min_length=1)
    failure_reason: str | None = None
    metadata: FailureMetadata | None = None


class _Envelope(WireModel):
    event_timestamp: int | None = None

    @field_validator("event_timestamp", mode="before")
    @classmethod
    def _number_or_numeric_string(cls, value: Any) -> Any:
        try:
            if isinstance(value, str):
                return int(float(value))
            if isinstance(value, float):
                return int(value)
        except (ValueError, OverflowError):  # "abc", NaN, Infinity
            raise ValueError("event_timestamp is not a unix time") from None
        return value


class PostCallTranscription(_Envelope):
    type: Literal["post_call_transcription"]
    data: TranscriptionData


class PostCallAudio(_Envelope):
    type: Literal["post_call_audio"]
    data: AudioData


class CallInitiationFailure(_Envelope):
    type: Literal["call_initiation_failure"]
    data: InitiationFailureData


PostCallEvent = PostCallTranscription | PostCallAudio | CallInitiationFailure
