"""The five Lambda functions: what each runs, which secrets it reads, what it may touch in the archive.

This table is the least-privilege contract; the roles are generated from it. Prefixes come from the
application's own key layout, so the permissions cannot drift from where the code writes.
"""

from dataclasses import dataclass

from pydantic_settings import BaseSettings

from agentic_memory.archive_keys import (
    AGENTS_PREFIX,
    AUDIO_PREFIX,
    CLIENT_DATA_PREFIX,
    POST_CALL_PREFIX,
    PROFILE_PREFIX,
    RECALL_PREFIX,
)
from agentic_memory.caller_links import LINKS_PREFIX
from agentic_memory.corrections import CORRECTIONS_PREFIX
from agentic_memory.memory_adds import MEMORY_ADDS_PREFIX
from agentic_memory.settings import (
    ConversationInitiationSettings,
    PostCallSettings,
    ProcessorSettings,
    RetentionPurgeSettings,
    SearchMemorySettings,
)


@dataclass(frozen=True)
class ArchiveAccess:
    """Key prefixes a function may read, write and list (S3 needs ListBucket to tell 404 from 403)."""

    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    list: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()


@dataclass(frozen=True)
class FunctionSpec:
    key: str  # the suffix of its physical name and its Powertools service name
    settings_field: str  # its entry in FunctionsSettings
    handler: str
    description: str
    secrets: tuple[str, ...]
    archive: ArchiveAccess
    # What the function reads from its environment: the stack gives it these settings and no others.
    settings_model: type[BaseSettings]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: FunctionSpec

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


CLIENT_DATA = FunctionSpec(
    key="client-data",
    settings_field="client_data",
    handler="services.conversation_initiation.handler.lambda_handler",
    description="ElevenLabs conversation initiation webhook: the caller's memory as dynamic variables",
    secrets=("ELEVENLABS_WORKSPACE_KEY",),
    # agents/: the agent's own numbers learned from its calls (an outbound call needs them).
    # profiles/: the caller brief, its one read (ListBucket so a missing brief is a 404, a new caller).
    # links/: a WhatsApp business-scoped id linked to the person's number (caller_links).
    archive=ArchiveAccess(
        write=(CLIENT_DATA_PREFIX,),
        read=(AGENTS_PREFIX, PROFILE_PREFIX, LINKS_PREFIX),
        list=(AGENTS_PREFIX, PROFILE_PREFIX, LINKS_PREFIX),
    ),
    settings_model=ConversationInitiationSettings,
)
RETRIEVE = FunctionSpec(
    key="retrieve",
    settings_field="retrieve",
    handler="services.search_memory.handler.lambda_handler",
    description="ElevenLabs search_memory tool: every past call of one caller, lexical and semantic",
    secrets=("ELEVENLABS_TOOL_KEY", "MEM0_API_KEY"),
    # recall/: the caller's recall index, its one read (ListBucket so a missing index is a 404).
    # links/: a WhatsApp business-scoped id linked to the person's number (caller_links).
    archive=ArchiveAccess(read=(RECALL_PREFIX, LINKS_PREFIX), list=(RECALL_PREFIX, LINKS_PREFIX)),
    settings_model=SearchMemorySettings,
)
POST_CALL = FunctionSpec(
    key="post-call",
    settings_field="post_call",
    handler="services.post_call.handler.lambda_handler",
    description="ElevenLabs post-call webhooks: verify the signature, archive the raw event, answer 200",
    # Duplicates are caught by a conditional PutObject (If-None-Match), which needs no extra action.
    secrets=("ELEVENLABS_HMAC_KEY",),
    # links/: a WhatsApp business-scoped id linked to a number files the event under the number.
    archive=ArchiveAccess(write=(POST_CALL_PREFIX,), read=(LINKS_PREFIX,), list=(LINKS_PREFIX,)),
    settings_model=PostCallSettings,
)
# What the processor reads, each listed too (ListBucket, so that a missing object is a 404).
_PROCESSOR_READS = (
    POST_CALL_PREFIX,
    MEMORY_ADDS_PREFIX,
    AGENTS_PREFIX,
    PROFILE_PREFIX,
    RECALL_PREFIX,
    LINKS_PREFIX,
    CORRECTIONS_PREFIX,
)
PROCESSOR = FunctionSpec(
    key="post-call-processor",
    settings_field="processor",
    handler="services.post_call.processor.lambda_handler",
    description="Turns archived post-call events into Mem0 memories and MP3 files (SQS-driven)",
    secrets=("MEM0_API_KEY", "ELEVENLABS_API_KEY"),
    # memory-adds/: the receipts of adds with inference (reads tell a missing receipt by ListBucket).
    # agents/: the numbers each agent has made or taken calls on, learned from its transcriptions.
    # links/: WhatsApp business-scoped ids linked to numbers, learnt from conversations naming both.
    # corrections/: operators' corrections, honoured by every processing (a missing one is a 404).
    # Deletes in post-call/: a late delivery of a call an operator removed, and that call's audio.
    archive=ArchiveAccess(
        read=_PROCESSOR_READS,
        write=(AUDIO_PREFIX, MEMORY_ADDS_PREFIX, AGENTS_PREFIX, PROFILE_PREFIX, RECALL_PREFIX, LINKS_PREFIX),
        list=_PROCESSOR_READS,
        delete=(POST_CALL_PREFIX,),
    ),
    settings_model=ProcessorSettings,
)

# What the retention purge deletes: briefs, recall indexes, the callers' transcriptions and their
# audio, pre-call exchanges, memory-add receipts and the operators' corrections record
# (agentic_memory.retention). It reads and lists what it may delete.
_PURGED = (
    PROFILE_PREFIX,
    POST_CALL_PREFIX,
    CLIENT_DATA_PREFIX,
    MEMORY_ADDS_PREFIX,
    RECALL_PREFIX,
    CORRECTIONS_PREFIX,
)
RETENTION = FunctionSpec(
    key="retention",
    settings_field="retention",
    handler="services.retention.handler.lambda_handler",
    description="Daily purge of callers whose last call is older than RETENTION_DAYS: brief, memories, calls",
    secrets=("MEM0_API_KEY",),
    archive=ArchiveAccess(read=_PURGED, list=_PURGED, delete=_PURGED),
    settings_model=RetentionPurgeSettings,
)

FUNCTIONS = (CLIENT_DATA, RETRIEVE, POST_CALL, PROCESSOR, RETENTION)
# Run on a schedule (EventBridge) as well as on a route or a queue: the daily retention purge, and
# the processor's re-drive of dead letters once Mem0 answers again (services/post_call/processor.py).
SCHEDULED = {RETENTION.key: "rate(1 day)", PROCESSOR.key: "rate(5 minutes)"}
ROUTES = (
    Route("POST", "/client-data", CLIENT_DATA),
    # ElevenLabs' default tool method is GET; the shipped tool definition uses POST. Both are served.
    Route("GET", "/retrieve", RETRIEVE),
    Route("POST", "/retrieve", RETRIEVE),
    Route("POST", "/post-call", POST_CALL),
)
# Only these archive keys become processing work: raw events, never the MP3 files the processor writes.
EVENT_PREFIX = POST_CALL_PREFIX
EVENT_SUFFIX = ".json"
